/**
 * The decrypt pool splits a batch across its workers and puts the answers back in the rows'
 * order; a row that does not open is reported in its place, and a worker that dies costs only
 * a fallback for its own slice, never a row. The workers here run the REAL worker module
 * (decrypt-worker.ts) behind a stand-in for the browser's Worker that copies every message
 * with structuredClone, as postMessage does.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { MessageKind, sealMessage } from '../../crypto/v1/message.ts';
import { encodeRequestBody } from '../../crypto/v1/request-body.ts';
import type { DecryptJob } from './decrypt-worker.ts';
import { openRows, poolSize, slices, terminateDecryptWorkers } from './decrypt-pool.ts';
import { openRequestRow, type RequestRowJson, type Vault, vaultContext } from './keys.ts';

let p: Primitives;
let workerHandler: (e: MessageEvent<DecryptJob>) => void;
/** Which fake worker each job id went to, so the shared worker module answers the right one. */
const jobOwner = new Map<number, FakeWorker>();
const created: FakeWorker[] = [];

class FakeWorker {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  jobs: DecryptJob[] = [];
  terminated = false;
  /** set by a test: this worker dies on its next job */
  crash = false;
  constructor(readonly url: string) {
    created.push(this);
  }
  postMessage(message: DecryptJob): void {
    const job = structuredClone(message);
    this.jobs.push(job);
    if (this.crash) {
      queueMicrotask(() => this.onerror?.(new Error('worker died')));
      return;
    }
    jobOwner.set(job.id, this);
    workerHandler({ data: job } as MessageEvent<DecryptJob>);
  }
  terminate(): void {
    this.terminated = true;
  }
}

beforeAll(async () => {
  p = await loadSodiumPrimitives();
  const scope = {
    onmessage: null as ((e: MessageEvent<DecryptJob>) => void) | null,
    postMessage(m: { id: number }) {
      const owner = jobOwner.get(m.id);
      if (owner && !owner.terminated) owner.onmessage?.({ data: structuredClone(m) } as MessageEvent);
    },
  };
  vi.stubGlobal('self', scope);
  await import('./decrypt-worker.ts');
  workerHandler = scope.onmessage!;
  vi.unstubAllGlobals();
});

afterEach(() => {
  terminateDecryptWorkers();
  vi.unstubAllGlobals();
  created.length = 0;
  jobOwner.clear();
});

function useWorkers(cores: number | undefined): void {
  vi.stubGlobal('Worker', FakeWorker);
  vi.stubGlobal('__WORKER_URLS__', { 'decrypt-worker': '/assets/decrypt-worker-test.js' });
  vi.stubGlobal('navigator', { hardwareConcurrency: cores });
}

/** Two teams' worth of real v1 request rows; `bad` is tampered, `keyless` names an epoch nobody holds. */
function fixture(count: number, bad: number, keyless: number): { vault: Vault; rows: RequestRowJson[] } {
  const orgId = p.randomBytes(16);
  const teams = [0, 1].map(() => {
    const secret = p.randomBytes(32);
    return { id: p.randomBytes(16), secret, public: p.x25519PublicFromSecret(secret) };
  });
  const requester = p.x25519PublicFromSecret(p.randomBytes(32));
  const rows: RequestRowJson[] = [];
  for (let i = 0; i < count; i++) {
    const team = teams[i % 2]!;
    const id = p.randomBytes(16);
    const body = encodeRequestBody({ topic: 'Legal help', message: `row ${i}`, replyPublicKey: requester, argon: { ops: 1, memKiB: 2048 } });
    const blob = sealMessage(p, { kind: MessageKind.request, orgId, teamId: team.id, epoch: 1, threadId: id, messageId: id, teamPublic: team.public, requesterPublic: requester, body });
    if (i === bad) blob[blob.length - 1]! ^= 1;
    rows.push({ id: base64urlEncode(id), teamId: base64urlEncode(team.id), epoch: i === keyless ? 7 : 1, status: 'new', priority: 'normal', assigneeId: null, createdHour: '', updatedHour: '', blob: base64urlEncode(blob) });
  }
  const vault = {
    orgId,
    rootPublic: p.randomBytes(32),
    teams: new Map(teams.map((t) => [base64urlEncode(t.id), { secrets: new Map([[1, t.secret]]) }])),
  } as unknown as Vault;
  return { vault, rows };
}

const summary = (r: ReturnType<typeof openRequestRow>) => (r.ok ? r.value.message : `failed: ${r.reason}`);

describe('decrypt pool', () => {
  it('sizes itself from the reported cores: at least 2, at most 4', () => {
    for (const [cores, size] of [[undefined, 2], [1, 2], [2, 2], [3, 3], [16, 4]] as const) {
      vi.stubGlobal('navigator', { hardwareConcurrency: cores });
      expect(poolSize()).toBe(size);
    }
  });

  it('cuts a batch into contiguous, even slices covering every row once, and leaves a small batch whole', () => {
    expect(slices(100, 3)).toEqual([{ start: 0, end: 33 }, { start: 33, end: 66 }, { start: 66, end: 100 }]);
    expect(slices(50, 2)).toEqual([{ start: 0, end: 25 }, { start: 25, end: 50 }]);
    expect(slices(10, 4)).toEqual([{ start: 0, end: 10 }]);
    expect(slices(1, 2)).toEqual([{ start: 0, end: 1 }]);
  });

  it('splits the rows across the workers and returns every result in row order, a failing row reported in its place', async () => {
    useWorkers(3);
    const { vault, rows } = fixture(100, 57, 12);
    const results = await openRows(p, vault, vaultContext(vault), rows);

    // Three workers, each given one contiguous slice and only the secrets its rows need.
    expect(created.map((w) => w.jobs.map((j) => j.rows.map((r) => r.id)))).toEqual([[rows.slice(0, 33).map((r) => r.id)], [rows.slice(33, 66).map((r) => r.id)], [rows.slice(66).map((r) => r.id)]]);
    for (const w of created) expect(w.jobs[0]!.secrets.map((s) => s.teamKey).sort()).toEqual([...new Set(rows.map((r) => r.teamId))].sort());
    // The same answers, in the same order, as opening row by row on this thread.
    expect(results.map(summary)).toEqual(rows.map((r) => summary(openRequestRow(p, vaultContext(vault), r))));
    expect(results).toHaveLength(100);
    expect(results[57]).toEqual({ ok: false, reason: 'unreadable' });
    expect(results[12]).toEqual({ ok: false, reason: 'no_key' });
    expect(summary(results[58]!)).toBe('row 58');
    // The vault's own secrets survive the copies the jobs zero-filled.
    expect(results.filter((r) => r.ok)).toHaveLength(98);
  });

  it('opens a dead worker\'s slice on the page thread: nothing is lost and the order holds', async () => {
    useWorkers(2);
    const { vault, rows } = fixture(40, 30, -1);
    // Start the workers, then make the second one die on its next job.
    await openRows(p, vault, vaultContext(vault), rows.slice(0, 32));
    expect(created).toHaveLength(2);
    created[1]!.crash = true;
    const results = await openRows(p, vault, vaultContext(vault), rows);
    expect(results.map(summary)).toEqual(rows.map((_, i) => (i === 30 ? 'failed: unreadable' : `row ${i}`)));
    expect(created[1]!.terminated).toBe(true);
    // The next batch starts a fresh second worker.
    await openRows(p, vault, vaultContext(vault), rows);
    expect(created).toHaveLength(3);
  });

  it('terminates every worker on a wipe', async () => {
    useWorkers(2);
    const { vault, rows } = fixture(40, -1, -1);
    await openRows(p, vault, vaultContext(vault), rows);
    terminateDecryptWorkers();
    expect(created.map((w) => w.terminated)).toEqual([true, true]);
  });

  it('opens everything on the page thread where there are no workers', async () => {
    const { vault, rows } = fixture(40, 5, -1);
    const results = await openRows(p, vault, vaultContext(vault), rows);
    expect(results.map(summary)).toEqual(rows.map((_, i) => (i === 5 ? 'failed: unreadable' : `row ${i}`)));
  });
});
