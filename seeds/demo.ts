/**
 * The demo organisation: a root key, three teams, and a first intake key epoch for each
 * (a v2 team key statement, serial 1).
 * Used by `npm run seed` and by tests. For local use only: the demo keeps its secrets where
 * a real deployment never would (see seed.ts).
 */
import type { Kysely } from 'kysely';
import { createGrant, createRootKey, createX25519Key, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { base64urlEncode } from '../crypto/encoding.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../crypto/v2/team-key.ts';
import { createAccountKeys, deriveAccountSecrets, loginVerifierHash, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys } from '../crypto/v1/account.ts';
import { wrapRootSeed } from '../crypto/v1/admin.ts';
import type { Ed25519Keypair, Primitives } from '../crypto/primitives.ts';
import type { Config } from '../api/config.ts';
import type { AccountRole, Database } from '../api/db/schema.ts';
import { coarseHour } from '../api/time.ts';

import type { SiteManifest } from '../crypto/v2/site-manifest.ts';
import { storeSignedManifests } from '../api/site/site-manifest.service.ts';

export class SeedRefusedError extends Error {
  override name = 'SeedRefusedError';
}

export const DEMO_TEAMS = [
  { slug: 'legal', name: 'Legal help', ru: 'Юридическая помощь' },
  { slug: 'medical', name: 'Medical help', ru: 'Медицинская помощь' },
  { slug: 'evacuation', name: 'Evacuation', ru: 'Эвакуация' },
] as const;

export interface DemoTeam {
  id: Uint8Array;
  slug: string;
  epoch: number;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface DemoOrganisation {
  organisationId: Uint8Array;
  root: Ed25519Keypair;
  teams: DemoTeam[];
}

export type SeedResult = { created: true; demo: DemoOrganisation } | { created: false; organisationId: Uint8Array };

export interface SeedOptions {
  /**
   * The site manifests of the build this deployment serves, for a root key: given, they are
   * signed with the new root seed right away (api/web/static-site.ts `manifestsOfBuild`).
   */
  siteManifests?: (rootPublicKey: Uint8Array, keySerialFloors: Record<string, number>) => SiteManifest[];
}

/** Creates the demo organisation once. Throws SeedRefusedError in production or over a real organisation. */
export async function seedDemo(db: Kysely<Database>, config: Config, p: Primitives, options: SeedOptions = {}): Promise<SeedResult> {
  if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode');
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('organisations').select(['id', 'is_demo']).execute();
    if (existing.some((o) => !o.is_demo)) {
      throw new SeedRefusedError('refusing to seed: this database holds a real organisation');
    }
    if (existing[0]) return { created: false, organisationId: existing[0].id };

    const organisationId = p.randomBytes(16);
    const root = createRootKey(p);
    const hour = coarseHour();
    await trx.insertInto('organisations').values({ id: organisationId, name: 'Haven demo hotline', is_demo: true, created_hour: hour }).execute();
    const teams: DemoTeam[] = [];
    for (const [position, t] of DEMO_TEAMS.entries()) {
      const id = p.randomBytes(16);
      const key = createX25519Key(p);
      // A v2 statement from the start (serial 1, default lifetime), as setup makes them.
      const issuedHour = unixHour(Date.now());
      const certificate = signTeamKeyStatement(p, root.seed, {
        orgId: organisationId, teamId: id, epoch: 1, serial: 1, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: key.publicKey,
      });
      await trx.insertInto('teams').values({ id, organisation_id: organisationId, slug: t.slug, name: t.name, display_names: JSON.stringify({ ru: t.ru }), position, created_hour: hour }).execute();
      await trx
        .insertInto('team_epochs')
        .values({ team_id: id, epoch: 1, public_key: key.publicKey, certificate, state: 'current', created_hour: hour })
        .execute();
      teams.push({ id, slug: t.slug, epoch: 1, publicKey: key.publicKey, secretKey: key.secretKey });
    }
    if (options.siteManifests) {
      const floors = Object.fromEntries(teams.map((t) => [base64urlEncode(t.id), 1]));
      await storeSignedManifests(trx, p, root.seed, options.siteManifests(root.publicKey, floors));
    }
    return { created: true, demo: { organisationId, root, teams } };
  });
}

/** What enrolment uploads for an account (public keys, the wrapped bundle, the verifier hash). */
export interface DemoAccountKeys {
  username: string;
  salt: Uint8Array;
  verifierHash: Uint8Array;
  keyBundle: Uint8Array;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
}

/** Makes account keys as the dashboard's enrolment does, wrapped under `passphrase`. */
export async function makeDemoAccountKeys(p: Primitives, username: string, passphrase: string): Promise<DemoAccountKeys> {
  const salt = newAccountSalt(p);
  const secrets = await deriveAccountSecrets(p, passphrase, salt, RESPONDER_DEFAULT_PARAMS);
  const keys = createAccountKeys(p);
  const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params: RESPONDER_DEFAULT_PARAMS, ...keys });
  return {
    username, salt, keyBundle, verifierHash: loginVerifierHash(p, secrets.loginVerifier),
    encPublicKey: p.x25519PublicFromSecret(keys.x25519Secret),
    signPublicKey: p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey,
  };
}

/** Inserts a pending account, as enrolment would. @returns its id. */
export async function insertDemoAccount(db: Kysely<Database>, p: Primitives, a: DemoAccountKeys, role: AccountRole): Promise<Uint8Array> {
  const id = p.randomBytes(16);
  await db
    .insertInto('accounts')
    .values({
      id, username: a.username, role, status: 'pending', salt: a.salt, verifier_hash: a.verifierHash, key_bundle: a.keyBundle,
      enc_public_key: a.encPublicKey, sign_public_key: a.signPublicKey, certificate: null, totp_secret: null, created_hour: coarseHour(),
    })
    .execute();
  return id;
}

/**
 * Approves an account for `teamIds` with the demo root key, as an admin's browser would:
 * signs its certificate, grants each team's current epoch secret, adds it to the teams.
 * @returns the certificate.
 */
export async function approveDemoAccount(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, accountId: Uint8Array, teamIds: Uint8Array[]): Promise<Uint8Array> {
  const account = await db.selectFrom('accounts').select(['role', 'enc_public_key', 'sign_public_key']).where('id', '=', accountId).executeTakeFirstOrThrow();
  const certificate = signResponderCert(p, demo.root.seed, {
    orgId: demo.organisationId,
    accountId,
    role: account.role === 'admin' ? Role.admin : Role.responder,
    x25519Public: account.enc_public_key,
    ed25519Public: account.sign_public_key,
  });
  await db.transaction().execute(async (trx) => {
    for (const teamId of teamIds) {
      const team = demo.teams.find((t) => p.constantTimeEqual(t.id, teamId));
      if (!team) throw new Error('not a demo team');
      const sealed = createGrant(p, { rootPublic: demo.root.publicKey, responderCert: certificate, orgId: demo.organisationId, teamId, epoch: team.epoch, epochSecret: team.secretKey });
      await trx.insertInto('team_members').values({ team_id: teamId, account_id: accountId }).execute();
      await trx.insertInto('grants').values({ team_id: teamId, epoch: team.epoch, account_id: accountId, sealed }).execute();
    }
    await trx.updateTable('accounts').set({ certificate, status: 'active' }).where('id', '=', accountId).execute();
  });
  return certificate;
}

/** An active admin of every demo team who holds the root seed (sealed to its key). @returns its id. */
export async function createDemoAdmin(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, a: DemoAccountKeys, teamIds = demo.teams.map((t) => t.id)): Promise<Uint8Array> {
  const id = await insertDemoAccount(db, p, a, 'admin');
  await approveDemoAccount(db, p, demo, id, teamIds);
  const sealed = wrapRootSeed(p, { adminX25519Public: a.encPublicKey, rootSeed: demo.root.seed, orgId: demo.organisationId, accountId: id });
  await db.insertInto('root_wraps').values({ account_id: id, sealed, created_hour: coarseHour() }).execute();
  return id;
}
