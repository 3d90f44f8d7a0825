/**
 * Requester keys v2: v1's lookup token and X25519 reply key, plus an Ed25519 signing key so
 * that the team can tell a follow-up from the requester apart from one the server wrote
 * (the server can address the requester slot, but cannot sign as the requester).
 *
 *   master     = Argon2id(normalised passphrase, requesterSalt(orgId), params)      (as v1)
 *   lookupToken = KDF(32, 1, "hvnreq01", master); replySecret = KDF(32, 2, ...)     (as v1)
 *   signSeed   = KDF(32, 3, "hvnreq01", master); signPublic = Ed25519 public of signSeed
 *
 * The same passphrase therefore gives the same lookup token and reply key in v1 and v2.
 */
import { utf8Encode } from '../encoding.ts';
import { WeakInputError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { checkArgon2Params, type Argon2Params } from '../v1/account.ts';
import { Kdf } from '../v1/constants.ts';
import {
  CURRENT_REQUESTER_PARAM_SET, normalizePassphrase, REQUESTER_MIN_PARAMS, REQUESTER_PARAM_SETS, requesterSalt,
  type RequesterKeys,
} from '../v1/requester.ts';
import { KdfV2 } from './constants.ts';

export interface RequesterKeysV2 extends RequesterKeys {
  signSeed: Uint8Array;
  signPublic: Uint8Array;
}

/**
 * @throws WeakInputError if the normalised passphrase is empty or params are below `minimum`.
 */
export async function deriveRequesterKeysV2(
  p: Primitives,
  passphrase: string,
  orgId: Uint8Array,
  params: Argon2Params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!,
  minimum: Argon2Params = REQUESTER_MIN_PARAMS,
): Promise<RequesterKeysV2> {
  const norm = normalizePassphrase(passphrase);
  if (norm.length === 0) throw new WeakInputError('empty passphrase');
  checkArgon2Params(params, minimum);
  const master = await p.argon2id(32, utf8Encode(norm), requesterSalt(p, orgId), params.ops, params.memKiB * 1024);
  try {
    const lookupToken = p.kdfDerive(32, Kdf.requesterLookupTokenId, Kdf.requesterContext, master);
    const replySecret = p.kdfDerive(32, Kdf.requesterReplyKeyId, Kdf.requesterContext, master);
    const signSeed = p.kdfDerive(32, KdfV2.requesterSignSeedId, KdfV2.requesterContext, master);
    return {
      lookupToken,
      replySecret,
      replyPublic: p.x25519PublicFromSecret(replySecret),
      signSeed,
      signPublic: p.ed25519KeypairFromSeed(signSeed).publicKey,
    };
  } finally {
    master.fill(0);
  }
}
