/**
 * Seals a notification address at rest.
 *
 * The server must be able to read the address (it sends to it), so it cannot be hashed;
 * what this stops is the address leaking with a copy of the database (a backup, a seized
 * disk) without the deployment's secret, which is never in the database. The key is
 * BLAKE2b-256(HAVEN_SERVER_SECRET, personal "haven-mailkey-v1"); the account id and the
 * version byte are the associated data, so a sealed address moved onto another account's
 * row (by someone who can write the database) no longer opens.
 *
 * Format v1: 0x01 || nonce (24 random bytes) || XChaCha20-Poly1305(address UTF-8) || tag (16).
 */
import { utf8Decode, utf8Encode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';

const PERSONAL = utf8Encode('haven-mailkey-v1');
export const ADDRESS_BOX_VERSION = 1;
const NONCE_BYTES = 24;

export class AddressBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressBoxError';
  }
}

export function addressKey(p: Primitives, serverSecret: Uint8Array): Uint8Array {
  return p.blake2b(32, serverSecret, { personal: PERSONAL });
}

function associatedData(accountId: Uint8Array): Uint8Array {
  const ad = new Uint8Array(1 + accountId.length);
  ad[0] = ADDRESS_BOX_VERSION;
  ad.set(accountId, 1);
  return ad;
}

export function sealAddress(p: Primitives, key: Uint8Array, accountId: Uint8Array, address: string): Uint8Array {
  const nonce = p.randomBytes(NONCE_BYTES);
  const sealed = p.aeadEncrypt(key, nonce, utf8Encode(address), associatedData(accountId));
  const out = new Uint8Array(1 + NONCE_BYTES + sealed.length);
  out[0] = ADDRESS_BOX_VERSION;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_BYTES);
  return out;
}

/**
 * @throws AddressBoxError for an unknown version, a short box, or one that does not open
 *   (another server secret, or a row moved between accounts).
 */
export function openAddress(p: Primitives, key: Uint8Array, accountId: Uint8Array, box: Uint8Array): string {
  if (box.length < 1 + NONCE_BYTES + 16) throw new AddressBoxError('sealed address too short');
  if (box[0] !== ADDRESS_BOX_VERSION) throw new AddressBoxError('unknown sealed address version');
  try {
    return utf8Decode(p.aeadDecrypt(key, box.subarray(1, 1 + NONCE_BYTES), box.subarray(1 + NONCE_BYTES), associatedData(accountId)));
  } catch {
    throw new AddressBoxError('sealed address does not open');
  }
}
