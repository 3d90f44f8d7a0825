/**
 * The dashboard's list decryption, off the main thread (issue 13: 10,000 rows took over 3 s
 * of a frozen page). Each job brings the rows and exactly the epoch secrets they need; the
 * worker opens the rows with the same code as the page (keys.ts `openRequestRow`), answers,
 * and zero-fills its copies of the secrets and of the attachment keys it decrypted. It keeps
 * nothing between jobs and writes nothing anywhere: keys live in memory only, for one job.
 */
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { openRequestRow, type RequestRowJson } from './keys.ts';

export interface DecryptJob {
  id: number;
  orgId: Uint8Array;
  rootPublic: Uint8Array;
  secrets: { teamKey: string; epoch: number; secret: Uint8Array }[];
  rows: RequestRowJson[];
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<DecryptJob>) => void) | null; postMessage(m: unknown): void };

scope.onmessage = (e) => {
  void (async () => {
    const job = e.data;
    const secrets = new Map(job.secrets.map((s) => [`${s.teamKey}/${s.epoch}`, s.secret]));
    try {
      const p = await loadSodiumPrimitives();
      // Each secret's public key once per job, not once per row (a quarter of a row's cost).
      const publics = new Map([...secrets].map(([k, s]) => [k, p.x25519PublicFromSecret(s)]));
      const ctx = {
        orgId: job.orgId,
        rootPublic: job.rootPublic,
        secret: (teamKey: string, epoch: number) => secrets.get(`${teamKey}/${epoch}`),
        publicKey: (teamKey: string, epoch: number) => publics.get(`${teamKey}/${epoch}`),
      };
      const results = job.rows.map((row) => openRequestRow(p, ctx, row));
      scope.postMessage({ id: job.id, results });
      // postMessage copied them: this worker's copies of the attachment keys go now.
      for (const r of results) if (r.ok) for (const a of r.value.attachments ?? []) a.key.fill(0);
    } catch {
      scope.postMessage({ id: job.id, results: null });
    } finally {
      for (const s of job.secrets) s.secret.fill(0);
    }
  })();
};
