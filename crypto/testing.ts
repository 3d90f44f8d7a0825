/**
 * TEST-ONLY: a Primitives wrapper whose randomBytes is a deterministic stream, so known-answer
 * vectors can be produced and replayed through the real protocol functions (no hidden
 * "internal" variants with injected ephemeral keys). Not exported from index.ts; never use
 * outside tests and the vector generator.
 *
 * Stream: block i = BLAKE2b-512(LE32(i), key = seed(32), personal "haven-test-rng"), concatenated.
 */
import type { Primitives } from './primitives.ts';

export function deterministicPrimitives(p: Primitives, seed: Uint8Array): Primitives {
  let buf = new Uint8Array(0);
  let counter = 0;
  const personal = new TextEncoder().encode('haven-test-rng');
  const randomBytes = (n: number): Uint8Array => {
    while (buf.length < n) {
      const block = p.blake2b(64, new Uint8Array([counter & 0xff, (counter >>> 8) & 0xff, (counter >>> 16) & 0xff, counter >>> 24]), { key: seed, personal });
      counter++;
      const next = new Uint8Array(buf.length + 64);
      next.set(buf);
      next.set(block, buf.length);
      buf = next;
    }
    const out = buf.slice(0, n);
    buf = buf.slice(n);
    return out;
  };
  const wrapped: Primitives = {
    ...p,
    name: p.name,
    randomBytes,
    x25519Keypair() {
      const secretKey = randomBytes(32);
      return { secretKey, publicKey: p.x25519PublicFromSecret(secretKey) };
    },
  };
  // Note: secretstream draws its header from the backend's own RNG, so attachment blobs are not
  // deterministic; crypto/secretstream.test.ts pins the stream itself with a libsodium vector.
  return wrapped;
}

/**
 * TEST-ONLY: a correctly MACed challenge in the RETIRED version 1 proof-of-work layout
 * (PROTOCOL.md 15.1: 0x01 | 0x60 | challengeId | difficulty | expiresAtMinute | mac), so tests
 * can show both sites refuse it. No code issues or solves version 1 any more.
 */
export function retiredPowV1Challenge(p: Primitives, serverSecret: Uint8Array): Uint8Array {
  const text = new TextEncoder();
  const body = new Uint8Array(23);
  body.set([0x01, 0x60]);
  body.set(p.randomBytes(16), 2);
  body[18] = 0; // difficulty
  new DataView(body.buffer).setUint32(19, 0xffff_ffff); // expiresAtMinute: never
  const macKey = p.blake2b(32, serverSecret, { personal: text.encode('haven-powkey-v1') });
  const mac = p.blake2b(32, body, { key: macKey, personal: text.encode('haven-powmac-v1') });
  const out = new Uint8Array(55);
  out.set(body);
  out.set(mac, 23);
  return out;
}
