/**
 * Spent no-JavaScript form tokens. They share `pow_spent` with spent proof-of-work challenges:
 * the same kind of row (a 16-byte id of something used once, kept until the hour after it
 * expires), swept by the same retention job. A form token's id is a personalised hash of its
 * random id (api/noscript/form-token.ts), so it cannot collide with a challenge id in practice.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** @returns true when this call spent the token, false when it was already spent. */
export async function claimFormToken(db: Kysely<Database>, spentId: Uint8Array, expiresHour: Date): Promise<boolean> {
  const row = await db
    .insertInto('pow_spent')
    .values({ challenge_id: spentId, expires_hour: expiresHour })
    .onConflict((oc) => oc.column('challenge_id').doNothing())
    .returning('challenge_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives a token back after its submission failed, so the same form can be sent again. */
export async function releaseFormToken(db: Kysely<Database>, spentId: Uint8Array): Promise<void> {
  await db.deleteFrom('pow_spent').where('challenge_id', '=', spentId).execute();
}
