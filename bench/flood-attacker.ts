/**
 * One flooding process for bench/flood.bench.ts: solves proofs of work as fast as native code
 * does here (node:crypto's SHA-256, OpenSSL) and submits valid, freshly sealed requests in a
 * loop, in two kinds of lanes (see `lane`): volume lanes at the least effort required, which
 * keep the intake full, and adaptive lanes that raise their effort after each refusal as the
 * honest page does, which compete with it for the places. Bounded in time (FLOOD_SECONDS) and to the loopback
 * server it is given. Prints one JSON line of counts when done.
 *
 * Env: FLOOD_URL, FLOOD_SECONDS, FLOOD_TARGET (JSON: orgId, teamId, epoch, teamPublic, base64url).
 */
import { Agent, request } from 'node:http';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { lookupTokenHash } from '../crypto/v1/requester.ts';
import { sealRequestV2 } from '../crypto/v2/message.ts';
import { leadingZeroBits, powWorkInputV2, parsePowChallengeV2, POW_V2_DOMAIN } from '../crypto/v2/pow.ts';
import { nodeSha256 } from '../api/intake/pow.service.ts';
import { requestBody, requesterKeys } from '../tests/helpers/requester-client.ts';

const url = new URL(process.env.FLOOD_URL!);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error('the flood targets loopback only');
let deadline = Date.now() + Number(process.env.FLOOD_SECONDS ?? 60) * 1000;
// The bench ends the flood when its honest client is done: finish the current try, then report.
process.on('SIGTERM', () => (deadline = 0));
/**
 * Submission loops per process: one solves while the others' submissions wait in the intake's
 * queue, so a process keeps many submissions outstanding (a flooder does not wait its turn).
 */
const LANES = Number(process.env.FLOOD_LANES ?? 32);
const target = JSON.parse(process.env.FLOOD_TARGET!) as { orgId: string; teamId: string; epoch: number; teamPublic: string };
const p = await loadSodiumPrimitives();
const orgId = base64urlDecode(target.orgId);
const keys = await requesterKeys(p, 'flood flood flood flood flood flood flood flood', orgId);
const body = requestBody('flood', keys);
const agent = new Agent({ keepAlive: true, maxSockets: LANES + 1 });

function call(method: 'GET' | 'POST', path: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = json === undefined ? undefined : JSON.stringify(json);
    const req = request(new URL(path, url), { method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // a non-JSON answer counts by its status alone
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

const counts: Record<string, number> = {};
let hashes = 0;
let hashMs = 0;
const efforts: number[] = [];

/**
 * A volume lane solves at the least effort the server requires right now and resends at once:
 * the most submissions per second its hashes can buy (it keeps the queue full). An adaptive lane
 * solves at the suggested effort and one bit more after each refusal, as the honest page does
 * (it competes for the places). The flood runs both.
 */
async function lane(volume: boolean): Promise<void> {
  let lastEffort = 0;
  let refused = false;
  while (Date.now() < deadline) {
    try {
      const offer = (await call('GET', '/api/v1/pow/challenge')).body as { challenge: string; difficulty: number; effort: number };
      const effort = volume ? offer.difficulty : Math.min(32, Math.max(offer.effort, refused ? lastEffort + 1 : 0));
      const challenge = base64urlDecode(offer.challenge);
      const { challengeId } = parsePowChallengeV2(challenge);
      const input = powWorkInputV2(challengeId, effort, p.randomBytes(8));
      const view = new DataView(input.buffer, POW_V2_DOMAIN.length + 17 + 4, 4);
      const started = performance.now();
      let counter = 0;
      while (leadingZeroBits(nodeSha256(input)) < effort) view.setUint32(0, ++counter);
      hashes += counter + 1;
      hashMs += performance.now() - started;
      lastEffort = effort;
      efforts.push(effort);
      const id = p.randomBytes(16);
      const envelope = sealRequestV2(p, {
        orgId, teamId: base64urlDecode(target.teamId), epoch: target.epoch, teamPublic: base64urlDecode(target.teamPublic), id, requester: keys, body,
      });
      const pow = { challenge: offer.challenge, effort, nonce: base64urlEncode(input.slice(POW_V2_DOMAIN.length + 17)) };
      const res = await call('POST', '/api/v1/requests', { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, p.randomBytes(32))), pow });
      const code = res.status === 201 ? 'stored' : String((res.body.error as { code?: string } | undefined)?.code ?? res.status);
      counts[code] = (counts[code] ?? 0) + 1;
      refused = code === 'proof_too_weak' || code === 'proof_outranked' || code === 'proof_expired';
    } catch {
      counts.network = (counts.network ?? 0) + 1;
    }
    // Let responses and the other lanes in between two solves.
    await new Promise((r) => setImmediate(r));
  }
}

await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i % 2 === 0)));
agent.destroy();
efforts.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ counts, hashes, hashesPerSecond: hashes / (hashMs / 1000), medianEffort: efforts[Math.floor(efforts.length / 2)] ?? 0, maxEffort: efforts.at(-1) ?? 0 })}\n`);
