/**
 * First-run setup made by the first admin's browser (POST /api/v1/setup, docs/PROTOCOL.md
 * 22.6): the organisation root key, the admin's account keys and every first team key are
 * made HERE, signed with the new root here, and only public halves, signatures and sealed
 * boxes leave. The root seed leaves only sealed to the admin's own X25519 key (root wrap),
 * exactly as `npm run setup` stores it; the server never sees the seed, the passphrase or any
 * account or team secret.
 *
 * Pure (no I/O): the triage page's setup view and the tests build the same body with it.
 */
import { base64urlEncode as b64 } from '../encoding.ts';
import type { Primitives } from '../primitives.ts';
import {
  createAccountKeys, deriveAccountSecrets, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys, type Argon2Params,
} from '../v1/account.ts';
import { AUDIT_GENESIS_HASH } from '../v1/audit.ts';
import { accountFingerprint, createGrant, createRootKey, createX25519Key, Role, rootFingerprint, signResponderCert } from '../v1/certs.ts';
import { signAuditEntry, wrapRootSeed } from '../v1/admin.ts';
import { unixHour } from './constants.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from './team-key.ts';

export interface FirstRunInput {
  /** The one-time setup token from the link's fragment, as text (base64url). */
  token: string;
  organisationName: string;
  /** Already normalised (lower case, 3-40 of a-z 0-9 . _ -); the server refuses anything else. */
  username: string;
  passphrase: string;
  teams: { slug: string; name: string }[];
  /** Argon2id cost; the enrolment default unless a test lowers it (never below the server's minimum). */
  params?: Argon2Params;
  now?: Date;
}

/** The JSON body of POST /api/v1/setup; every byte field unpadded base64url. */
export interface FirstRunBody {
  token: string;
  organisation: { id: string; name: string };
  rootPublicKey: string;
  admin: {
    id: string;
    username: string;
    keyBundle: string;
    salt: string;
    encPublicKey: string;
    signPublicKey: string;
    loginVerifier: string;
    certificate: string;
    rootWrap: string;
  };
  teams: { id: string; slug: string; name: string; certificate: string; grant: string }[];
  audit: { entry: string; prevHash: string; signature: string };
}

export interface FirstRunSetup {
  body: FirstRunBody;
  /** To write down: the root fingerprint every responder compares (docs/PROTOCOL.md 2). */
  rootFingerprint: string;
  /** The admin's own account fingerprint (docs/PROTOCOL.md 14.2). */
  adminFingerprint: string;
}

/**
 * Makes every key and signature of a new organisation. The caller's secrets (root seed,
 * account keys, team secrets, Argon2 outputs) are zero-filled before this returns.
 * The audit entry `org.setup` is the chain's first (prev = genesis), with the targets
 * `{organisationId, teamIds}` that `npm run setup` writes too.
 */
export async function makeFirstRunSetup(p: Primitives, input: FirstRunInput): Promise<FirstRunSetup> {
  const now = input.now ?? new Date();
  const params = input.params ?? RESPONDER_DEFAULT_PARAMS;
  const salt = newAccountSalt(p);
  const secrets = await deriveAccountSecrets(p, input.passphrase, salt, params);
  const keys = createAccountKeys(p);
  const root = createRootKey(p);
  try {
    const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params, ...keys });
    const encPublicKey = p.x25519PublicFromSecret(keys.x25519Secret);
    const signPublicKey = p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey;
    const orgId = p.randomBytes(16);
    const adminId = p.randomBytes(16);
    const certificate = signResponderCert(p, root.seed, { orgId, accountId: adminId, role: Role.admin, x25519Public: encPublicKey, ed25519Public: signPublicKey });
    const rootWrap = wrapRootSeed(p, { adminX25519Public: encPublicKey, rootSeed: root.seed, orgId, accountId: adminId });
    const issuedHour = unixHour(now.getTime());
    const teams = input.teams.map((t) => {
      const id = p.randomBytes(16);
      const key = createX25519Key(p);
      try {
        const statement = signTeamKeyStatement(p, root.seed, {
          orgId, teamId: id, epoch: 1, serial: 1, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: key.publicKey,
        });
        const grant = createGrant(p, { rootPublic: root.publicKey, responderCert: certificate, orgId, teamId: id, epoch: 1, epochSecret: key.secretKey });
        return { id: b64(id), slug: t.slug, name: t.name, certificate: b64(statement), grant: b64(grant) };
      } finally {
        key.secretKey.fill(0);
      }
    });
    const audit = signAuditEntry(p, {
      action: 'org.setup',
      actorId: adminId,
      targets: { organisationId: b64(orgId), teamIds: teams.map((t) => t.id) },
      hour: now,
      prevHash: AUDIT_GENESIS_HASH,
      ed25519Seed: keys.ed25519Seed,
    });
    return {
      body: {
        token: input.token,
        organisation: { id: b64(orgId), name: input.organisationName },
        rootPublicKey: b64(root.publicKey),
        admin: {
          id: b64(adminId),
          username: input.username,
          keyBundle: b64(keyBundle),
          salt: b64(salt),
          encPublicKey: b64(encPublicKey),
          signPublicKey: b64(signPublicKey),
          loginVerifier: b64(secrets.loginVerifier),
          certificate: b64(certificate),
          rootWrap: b64(rootWrap),
        },
        teams,
        audit: { entry: b64(audit.entry), prevHash: b64(audit.prevHash), signature: b64(audit.signature) },
      },
      rootFingerprint: rootFingerprint(p, root.publicKey),
      adminFingerprint: accountFingerprint(p, encPublicKey, signPublicKey),
    };
  } finally {
    root.seed.fill(0);
    keys.x25519Secret.fill(0);
    keys.ed25519Seed.fill(0);
    secrets.wrapKey.fill(0);
    secrets.loginVerifier.fill(0);
  }
}
