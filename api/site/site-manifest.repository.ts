/** Stored root signatures over site manifests (migration 0006). */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Site } from '../http/security-headers.ts';
import { coarseHour } from '../time.ts';

export async function findManifestSignature(db: Kysely<Database>, site: Site, manifestSha256: Uint8Array): Promise<Uint8Array | null> {
  const row = await db
    .selectFrom('site_manifest_signatures')
    .select('signature')
    .where('site', '=', site)
    .where('manifest_sha256', '=', manifestSha256)
    .executeTakeFirst();
  return row ? new Uint8Array(row.signature) : null;
}

/** Stores (or replaces) the signature for one site and manifest hash. */
export async function saveManifestSignature(db: Kysely<Database>, site: Site, manifestSha256: Uint8Array, signature: Uint8Array): Promise<void> {
  await db
    .insertInto('site_manifest_signatures')
    .values({ site, manifest_sha256: manifestSha256, signature, created_hour: coarseHour() })
    .onConflict((oc) => oc.columns(['site', 'manifest_sha256']).doUpdateSet({ signature, created_hour: coarseHour() }))
    .execute();
}
