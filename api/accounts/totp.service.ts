/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s) and recovery codes: the second factor for
 * authenticators without passkeys, and the way back in when a device is lost.
 *
 * The one module that imports `otpauth` (HOTP/TOTP and the otpauth:// URI); it is not a
 * primitives library in the sense of crypto/sodium.ts (it only computes and formats codes),
 * so it is kept here behind four small functions rather than in crypto/.
 *
 * Why the server can read the secret: checking a TOTP code needs the shared secret, so it
 * cannot be end-to-end like the account keys. It is stored sealed (XChaCha20-Poly1305) under
 * a key derived from HAVEN_SERVER_SECRET, with the account id as associated data: a copy of
 * the database alone does not give it, and a sealed secret cannot be moved to another
 * account. A server that is fully taken (secret and database) can mint codes; the passkey
 * with PRF (docs/THREAT-MODEL.md) is the factor that survives that.
 *
 * Reuse: a code is accepted once. The last accepted time steps are kept as keyed hashes
 * (same server key) rather than as numbers, so the table does not say when anyone signed in.
 */
import { Secret, TOTP } from 'otpauth';
import type { Primitives } from '../../crypto/primitives.ts';
import { utf8Encode } from '../../crypto/encoding.ts';

export const TOTP_SECRET_BYTES = 20;
export const TOTP_PERIOD_SECONDS = 30;
/** One step either side: clocks drift, and a code typed at the end of its step still counts. */
export const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** 10 random bytes: 80 bits, 16 base32 characters. */
export const RECOVERY_CODE_BYTES = 10;
const USED_STEPS_KEPT = 3;

const SEAL_KEY_PERSONAL = utf8Encode('haven-totpkey-v1');
const STEP_KEY_PERSONAL = utf8Encode('haven-totpstp-v1');
const RECOVERY_PERSONAL = utf8Encode('haven-recov-v1');
const AD_STORED = utf8Encode('haven-totp-stored-v1');
const AD_PENDING = utf8Encode('haven-totp-pending-v1');

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

export class TotpService {
  private readonly sealKey: Uint8Array;
  private readonly stepKey: Uint8Array;

  constructor(
    private readonly crypto: Primitives,
    serverKey: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {
    this.sealKey = crypto.blake2b(32, serverKey, { personal: SEAL_KEY_PERSONAL });
    this.stepKey = crypto.blake2b(32, serverKey, { personal: STEP_KEY_PERSONAL });
  }

  newSecret(): Uint8Array {
    return this.crypto.randomBytes(TOTP_SECRET_BYTES);
  }

  /** The otpauth:// URI an authenticator app reads (as a QR code or pasted) and the base32 text. */
  describe(secret: Uint8Array, username: string): { uri: string; base32: string } {
    const totp = this.totp(secret, username);
    return { uri: totp.toString(), base32: totp.secret.base32 };
  }

  private totp(secret: Uint8Array, label = 'haven'): TOTP {
    return new TOTP({
      issuer: 'Haven', label, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SECONDS,
      secret: new Secret({ buffer: secret.slice().buffer }),
    });
  }

  /**
   * Seals a secret for storage (`pending` for the stateless enrolment round trip, where the
   * browser holds it between start and confirm; a pending seal cannot be stored as is).
   */
  seal(secret: Uint8Array, accountId: Uint8Array, kind: 'stored' | 'pending'): Uint8Array {
    const nonce = this.crypto.randomBytes(24);
    const ad = concat(kind === 'stored' ? AD_STORED : AD_PENDING, accountId);
    return concat(nonce, this.crypto.aeadEncrypt(this.sealKey, nonce, secret, ad));
  }

  /** @returns the secret, or null when the seal is not this server's for this account and kind. */
  open(sealed: Uint8Array, accountId: Uint8Array, kind: 'stored' | 'pending'): Uint8Array | null {
    if (sealed.length !== 24 + TOTP_SECRET_BYTES + 16) return null;
    const ad = concat(kind === 'stored' ? AD_STORED : AD_PENDING, accountId);
    try {
      return this.crypto.aeadDecrypt(this.sealKey, sealed.subarray(0, 24), sealed.subarray(24), ad);
    } catch {
      return null;
    }
  }

  private stepHash(accountId: Uint8Array, step: number): Uint8Array {
    const s = new Uint8Array(8);
    new DataView(s.buffer).setBigUint64(0, BigInt(step));
    return this.crypto.blake2b(32, concat(accountId, s), { key: this.stepKey });
  }

  /**
   * Checks a code against the secret, one step of drift either side, and refuses a step
   * already used (`used` holds keyed hashes of the last accepted steps).
   * @returns the new `used` value when accepted, or null.
   */
  verify(secret: Uint8Array, accountId: Uint8Array, code: string, used: Uint8Array | null): Uint8Array | null {
    if (!/^[0-9]{6}$/.test(code)) return null;
    const timestamp = this.now();
    const delta = this.totp(secret).validate({ token: code, timestamp, window: TOTP_WINDOW });
    if (delta === null) return null;
    const step = Math.floor(timestamp / 1000 / TOTP_PERIOD_SECONDS) + delta;
    const hash = this.stepHash(accountId, step);
    const previous: Uint8Array[] = [];
    for (let at = 0; used && at + 32 <= used.length; at += 32) previous.push(used.subarray(at, at + 32));
    let seen = false;
    for (const h of previous) if (this.crypto.constantTimeEqual(h, hash)) seen = true;
    if (seen) return null;
    return concat(...[hash, ...previous].slice(0, USED_STEPS_KEPT));
  }

  /** The code for `secret` now (tests and the bench stand in for an authenticator app with it). */
  static codeAt(secret: Uint8Array, timestamp: number): string {
    return new TOTP({ algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SECONDS, secret: new Secret({ buffer: secret.slice().buffer }) }).generate({ timestamp });
  }

  /** Ten fresh recovery codes, as shown once to their owner: XXXX-XXXX-XXXX-XXXX (base32). */
  newRecoveryCodes(): string[] {
    return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const text = new Secret({ buffer: this.crypto.randomBytes(RECOVERY_CODE_BYTES).slice().buffer }).base32;
      return text.match(/.{4}/g)!.join('-');
    });
  }

  /**
   * What is stored for a recovery code: BLAKE2b-256 of its normalised text (80 random bits,
   * so an unkeyed hash is safe from guessing). @returns null for text that cannot be a code.
   */
  recoveryCodeHash(text: string): Uint8Array | null {
    const norm = text.toUpperCase().replace(/[\s-]/g, '');
    if (!/^[A-Z2-7]{16}$/.test(norm)) return null;
    return this.crypto.blake2b(32, utf8Encode(norm), { personal: RECOVERY_PERSONAL });
  }
}
