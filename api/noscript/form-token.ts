/**
 * One-time form tokens for the no-JavaScript forms (docs/PROTOCOL.md, "No-JavaScript path").
 *
 * Without script, a reload of the answer page or a double click re-sends the same POST. Each
 * form therefore carries a token the server issued: random, bound by a MAC to the server secret
 * (so any instance checks any other's, as with proof-of-work challenges), to its purpose and
 * to an expiry. The first valid submission spends it (a hash of its id goes into `pow_spent`,
 * which every instance shares and the retention sweep already empties); a repeat is answered
 * "already sent" and creates nothing.
 *
 * Layout (base64url in the form): version 1 (1) | purpose (1) | id (16) | expiresAtMinute (u32) | mac (32)
 *   mac = BLAKE2b-256(key = BLAKE2b-256(serverSecret, personal "haven-nsfkey-v1"),
 *                     message = everything before the mac, personal "haven-nsfmac-v1")
 * The MAC key is derived with its own personalisation, so a form token is never a valid
 * proof-of-work challenge nor the other way round.
 */
import { base64urlDecode, base64urlEncode, ByteReader, ByteWriter, utf8Encode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';

export const FormPurpose = { request: 1, followup: 2 } as const;
export type FormPurposeValue = (typeof FormPurpose)[keyof typeof FormPurpose];

/** Long enough to write a long message slowly; short enough that a stale page is refused. */
export const FORM_TOKEN_LIFETIME_MINUTES = 180;
const VERSION = 1;
const TOKEN_BYTES = 1 + 1 + 16 + 4 + 32;
const PERSONAL_KEY = utf8Encode('haven-nsfkey-v1');
const PERSONAL_MAC = utf8Encode('haven-nsfmac-v1');
const PERSONAL_SPENT = utf8Encode('haven-nsfspn-v1');

export type FormTokenCheck =
  | { ok: true; spentId: Uint8Array; expiresAtMinute: number }
  | { ok: false; reason: 'invalid' | 'expired' };

export class FormTokens {
  readonly #key: Uint8Array;

  constructor(
    private readonly crypto: Primitives,
    serverSecret: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = crypto.blake2b(32, serverSecret, { personal: PERSONAL_KEY });
  }

  issue(purpose: FormPurposeValue): string {
    const body = new ByteWriter()
      .u8(VERSION).u8(purpose).bytes(this.crypto.randomBytes(16), 16)
      .u32(Math.floor(this.now() / 60_000) + FORM_TOKEN_LIFETIME_MINUTES)
      .finish();
    return base64urlEncode(new ByteWriter().bytes(body).bytes(this.crypto.blake2b(32, body, { key: this.#key, personal: PERSONAL_MAC })).finish());
  }

  /**
   * Checks MAC, purpose and expiry; never throws on hostile input.
   * @returns the id to spend (a hash of the token's id, 16 bytes) when the token is good.
   */
  check(text: unknown, purpose: FormPurposeValue): FormTokenCheck {
    if (typeof text !== 'string' || text.length > 200) return { ok: false, reason: 'invalid' };
    let bytes: Uint8Array;
    try {
      bytes = base64urlDecode(text);
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (bytes.length !== TOKEN_BYTES) return { ok: false, reason: 'invalid' };
    const body = bytes.subarray(0, TOKEN_BYTES - 32);
    const expected = this.crypto.blake2b(32, body, { key: this.#key, personal: PERSONAL_MAC });
    if (!this.crypto.constantTimeEqual(expected, bytes.subarray(TOKEN_BYTES - 32))) return { ok: false, reason: 'invalid' };
    const r = new ByteReader(body);
    if (r.u8() !== VERSION || r.u8() !== purpose) return { ok: false, reason: 'invalid' };
    const id = r.bytes(16);
    const expiresAtMinute = r.u32();
    if (expiresAtMinute < Math.floor(this.now() / 60_000)) return { ok: false, reason: 'expired' };
    return { ok: true, spentId: this.crypto.blake2b(16, id, { personal: PERSONAL_SPENT }), expiresAtMinute };
  }
}
