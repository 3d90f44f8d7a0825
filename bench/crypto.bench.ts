/**
 * Crypto benchmark: seal/open of a 4 KiB request per second and each Argon2id setting's time,
 * on both backends, plus the pure-JS path with the JIT disabled (node --jitless), which is
 * what Tor Browser's Safer level does (no WebAssembly, no JIT).
 * Run: npx tsx bench/crypto.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import {
  loadSodiumPrimitives, noblePrimitives, sealMessage, openMessage, MessageKind, RecipientKind,
  REQUESTER_PARAM_SETS, CURRENT_REQUESTER_PARAM_SET, RESPONDER_DEFAULT_PARAMS, RESPONDER_MIN_PARAMS,
  type Primitives, type Argon2Params,
} from '../crypto/index.ts';

function perSecond(fn: () => void, minMs = 1500): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

async function median(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

function sealOpen(p: Primitives) {
  const team = p.x25519Keypair();
  const requester = p.x25519Keypair();
  const orgId = p.randomBytes(16);
  const teamId = p.randomBytes(16);
  const body = p.randomBytes(4000); // a 4 KiB bucket
  const make = () => {
    const id = p.randomBytes(16);
    return sealMessage(p, { kind: MessageKind.request, orgId, teamId, epoch: 1, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: requester.publicKey, body });
  };
  const m = make();
  return {
    seal: perSecond(make),
    open: perSecond(() => openMessage(p, m, { recipientKind: RecipientKind.team, secret: team.secretKey, expected: { orgId } })),
  };
}

const settings: [string, Argon2Params][] = [
  [`requester set ${CURRENT_REQUESTER_PARAM_SET}`, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!],
  ['responder minimum', RESPONDER_MIN_PARAMS],
  ['responder default', RESPONDER_DEFAULT_PARAMS],
];

const sodium = await loadSodiumPrimitives();
console.log(`# Haven crypto bench: ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores`);
console.log('\n| operation | sodium (wasm) | noble (JS) |\n|---|---|---|');
const s = sealOpen(sodium);
const n = sealOpen(noblePrimitives);
console.log(`| sealMessage, 4 KiB request, 2 recipients | ${s.seal.toFixed(0)}/s | ${n.seal.toFixed(0)}/s |`);
console.log(`| openMessage, team recipient | ${s.open.toFixed(0)}/s | ${n.open.toFixed(0)}/s |`);
for (const [label, prm] of settings) {
  const run = (p: Primitives) => () => p.argon2id(32, new Uint8Array(24), new Uint8Array(16), prm.ops, prm.memKiB * 1024);
  const runs = prm.memKiB > 20000 ? 3 : 5;
  const ts = await median(run(sodium), runs);
  const tn = await median(run(noblePrimitives), runs);
  console.log(`| Argon2id ${label} (t=${prm.ops}, ${prm.memKiB / 1024} MiB) | ${ts.toFixed(0)} ms | ${tn.toFixed(0)} ms |`);
}

// The pure-JS path with the JIT off, as in Tor Browser "Safer": a child node --jitless.
const req = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!;
const child = `
import { noblePrimitives as p, sealMessage, MessageKind } from './crypto/index.ts'; // index must be importable without WebAssembly
const t = [];
for (let i = 0; i < 3; i++) { const s = performance.now(); await p.argon2id(32, new Uint8Array(24), new Uint8Array(16), ${req.ops}, ${req.memKiB} * 1024); t.push(performance.now() - s); }
t.sort((a, b) => a - b);
const team = p.x25519Keypair(), rq = p.x25519Keypair(), id = p.randomBytes(16), body = p.randomBytes(4000);
const s = performance.now();
for (let i = 0; i < 5; i++) sealMessage(p, { kind: MessageKind.request, orgId: id, teamId: id, epoch: 1, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: rq.publicKey, body });
console.log(JSON.stringify({ argon: t[1], seal: (performance.now() - s) / 5 }));
`;
try {
  const out = execFileSync(process.execPath, ['--jitless', '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', child], { encoding: 'utf8' });
  const j = JSON.parse(out.trim().split('\n').pop()!);
  console.log(`\nnoble with --jitless (Tor Browser Safer: no WebAssembly, no JIT):`);
  console.log(`- Argon2id requester set ${CURRENT_REQUESTER_PARAM_SET} (t=${req.ops}, ${req.memKiB / 1024} MiB): ${j.argon.toFixed(0)} ms`);
  console.log(`- sealMessage 4 KiB request: ${j.seal.toFixed(0)} ms each`);
} catch (e) {
  console.log('\n(jitless child failed:', (e as Error).message.split('\n')[0], ')');
}
