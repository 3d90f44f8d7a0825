/**
 * ONE Ed25519 verification rule on both backends: libsodium's crypto_sign_verify_detached
 * (libsodium 1.0.22: canonical S, canonical A, A and R not of small order, COFACTORLESS equation).
 *
 * tests/vectors/ed25519-edge.json is produced by the generator below, which crafts the edge
 * cases with its own small BigInt Edwards arithmetic (RFC 8032 section 5.1 formulas) and
 * node:crypto SHA-512, deliberately independent of both backends under test. Every vector
 * records whether the cofactored and the cofactorless equations hold and the answer libsodium's
 * rule gives (`expected`, computed by the reference rule here). The tests then require:
 *   - the checked-in file is exactly what the generator produces (nothing hand-typed);
 *   - libsodium itself gives `expected` for every vector (the reference rule IS libsodium's);
 *   - the noble backend gives the same answer as libsodium for every vector;
 *   - the stock noble ed25519.verify (cofactored) ACCEPTS the mixed-order vectors that we reject,
 *     so the vectors really tell the two equations apart.
 * Regenerate with HAVEN_WRITE_VECTORS=1 after a deliberate change.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x, utf8Encode } from './encoding.ts';
import { noblePrimitives } from './noble.ts';
import { loadSodiumPrimitives } from './sodium.ts';

// ---------------------------------------------------------------- reference arithmetic

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** Extended coordinates (X, Y, Z, T), RFC 8032 section 5.1.4. */
type Pt = readonly [bigint, bigint, bigint, bigint];
const ZERO: Pt = [0n, 1n, 1n, 0n];
function add(p: Pt, q: Pt): Pt {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(2n * p[3] * q[3] * D);
  const d = mod(2n * p[2] * q[2]);
  const e = b - a, f = d - c, g = d + c, hh = b + a;
  return [mod(e * f), mod(g * hh), mod(f * g), mod(e * hh)];
}
const neg = (p: Pt): Pt => [mod(-p[0]), p[1], p[2], mod(-p[3])];
function mul(s: bigint, p: Pt): Pt {
  let q = ZERO;
  let a = p;
  while (s > 0n) {
    if (s & 1n) q = add(q, a);
    a = add(a, a);
    s >>= 1n;
  }
  return q;
}
function equal(p: Pt, q: Pt): boolean {
  return mod(p[0] * q[2] - q[0] * p[2]) === 0n && mod(p[1] * q[2] - q[1] * p[2]) === 0n;
}
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, v) => (acc << 8n) | BigInt(v), 0n);
function encode(p: Pt): Uint8Array {
  const zi = inv(p[2]);
  const xx = mod(p[0] * zi), y = mod(p[1] * zi);
  return le(y | ((xx & 1n) << 255n));
}
/** Permissive decode (y taken mod p, x = 0 with the sign bit allowed): for recording what the equations say. */
function decodeLoose(b: Uint8Array): Pt | null {
  const raw = fromLe(b);
  const sign = raw >> 255n;
  const y = mod(raw & ((1n << 255n) - 1n));
  const x2 = mod((y * y - 1n) * inv(D * y * y + 1n));
  let xx = pow(x2, (P + 3n) / 8n);
  if (mod(xx * xx - x2) !== 0n) xx = mod(xx * SQRT_M1);
  if (mod(xx * xx - x2) !== 0n) return null;
  if ((xx & 1n) !== sign) xx = mod(-xx);
  return [xx, y, 1n, mod(xx * y)];
}
const BASE: Pt = (() => {
  const y = mod(4n * inv(5n));
  return decodeLoose(le(y))!; // x even: the RFC 8032 base point
})();
const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const hh = createHash('sha512');
  for (const p of parts) hh.update(p);
  return new Uint8Array(hh.digest());
};
const hashToScalar = (...parts: Uint8Array[]): bigint => fromLe(sha512(...parts)) % L;

/** RFC 8032 section 5.1.5: seed -> (scalar a, prefix, A). */
function expand(seed: Uint8Array): { a: bigint; prefix: Uint8Array } {
  const d = sha512(seed);
  const head = d.slice(0, 32);
  head[0]! &= 248;
  head[31]! &= 127;
  head[31]! |= 64;
  return { a: fromLe(head), prefix: d.slice(32) };
}
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const sig = (r: Uint8Array, s: bigint): Uint8Array => concat(r, le(s));

// ---------------------------------------------------------------- the rules

const SMALL_ORDER_Y = new Set<bigint>();
/** The torsion group is cyclic of order 8; T8 generates it. Found, not typed: L * (a curve point). */
const T8: Pt = (() => {
  for (let y = 2n; ; y++) {
    const pt = decodeLoose(le(y));
    if (!pt) continue;
    const t = mul(L, pt);
    if (!equal(mul(4n, t), ZERO)) return t;
  }
})();
const TORSION: Pt[] = Array.from({ length: 8 }, (_, i) => mul(BigInt(i), T8));
for (const t of TORSION) SMALL_ORDER_Y.add(fromLe(encode(t)) & ((1n << 255n) - 1n));

/** libsodium ge25519_has_small_order: y bytes (sign bit ignored, y mod p) of a torsion point. */
const smallOrderBytes = (b: Uint8Array): boolean => SMALL_ORDER_Y.has(mod(fromLe(b) & ((1n << 255n) - 1n)));
const canonicalY = (b: Uint8Array): boolean => (fromLe(b) & ((1n << 255n) - 1n)) < P;

/** Reference for libsodium 1.0.22 crypto_sign_verify_detached (ref10/open.c), written from its source. */
function libsodiumRule(signature: Uint8Array, message: Uint8Array, pk: Uint8Array): boolean {
  const rb = signature.slice(0, 32);
  const s = fromLe(signature.slice(32));
  if (s >= L || smallOrderBytes(rb)) return false;
  if (!canonicalY(pk) || smallOrderBytes(pk)) return false;
  const A = decodeLoose(pk);
  if (!A) return false;
  const k = hashToScalar(rb, pk, message);
  return x(encode(add(mul(s, BASE), neg(mul(k, A))))) === x(rb);
}

/** What the two textbook equations say, ignoring every encoding and small-order check. */
function equations(signature: Uint8Array, message: Uint8Array, pk: Uint8Array): { cofactored: boolean; cofactorless: boolean } {
  const A = decodeLoose(pk);
  const R = decodeLoose(signature.slice(0, 32));
  if (!A || !R) return { cofactored: false, cofactorless: false };
  const s = fromLe(signature.slice(32));
  const k = hashToScalar(signature.slice(0, 32), pk, message);
  const diff = add(mul(s, BASE), neg(add(R, mul(k, A)))); // [S]B - R - [k]A
  return { cofactored: equal(mul(8n, diff), ZERO), cofactorless: equal(diff, ZERO) };
}

// ---------------------------------------------------------------- the vectors

interface EdgeVector {
  name: string;
  why: string;
  publicKey: string;
  message: string;
  signature: string;
  cofactored: boolean;
  cofactorless: boolean;
  expected: boolean;
}

const seedOf = (label: string): Uint8Array => sha512(utf8Encode('haven-ed25519-edge:' + label)).slice(0, 32);
const scalarOf = (label: string): bigint => hashToScalar(utf8Encode('haven-ed25519-edge-scalar:' + label));
/** First message "label:i" whose challenge k satisfies `want(k)`, for the cases that need k in a class mod 8. */
function messageWhere(label: string, rb: Uint8Array, pk: Uint8Array, want: (k: bigint) => boolean): { m: Uint8Array; k: bigint } {
  for (let i = 0; ; i++) {
    const m = utf8Encode(`${label}:${i}`);
    const k = hashToScalar(rb, pk, m);
    if (want(k)) return { m, k };
  }
}
/** A y >= p encoding (y' + p) of a point whose canonical y' is small enough for that to fit in 255 bits. */
const nonCanonical = (yPrime: bigint, signBit = 0n): Uint8Array => le((yPrime + P) | (signBit << 255n));

export function buildEdgeVectors(): { source: string; vectors: EdgeVector[] } {
  const out: EdgeVector[] = [];
  const push = (name: string, why: string, pk: Uint8Array, m: Uint8Array, s: Uint8Array): void => {
    out.push({ name, why, publicKey: x(pk), message: x(m), signature: x(s), ...equations(s, m, pk), expected: libsodiumRule(s, m, pk) });
  };
  const signWith = (a: bigint, prefix: Uint8Array, pk: Uint8Array, m: Uint8Array): Uint8Array => {
    const r = hashToScalar(prefix, m);
    const rb = encode(mul(r, BASE));
    return sig(rb, mod(r + hashToScalar(rb, pk, m) * a, L));
  };

  // Ordinary signatures (RFC 8032 section 7.1 test 1 and two more).
  for (const [label, seed, msg] of [
    ['rfc8032-test1', h('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'), new Uint8Array(0)],
    ['valid-a', seedOf('valid-a'), utf8Encode('an ordinary message')],
    ['valid-b', seedOf('valid-b'), sha512(utf8Encode('64 bytes of message'))],
  ] as const) {
    const { a, prefix } = expand(seed);
    const pk = encode(mul(a, BASE));
    const s = signWith(a, prefix, pk, msg);
    push(`valid: ${label}`, 'an ordinary RFC 8032 signature', pk, msg, s);
    if (label === 'valid-a') {
      push('wrong message', 'a valid signature checked against another message', pk, utf8Encode('another message'), s);
      const sBig = fromLe(s.slice(32));
      push('S + L', 'non-canonical S (S >= L); both equations still hold because [S]B only depends on S mod L', pk, msg, sig(s.slice(0, 32), sBig + L));
      push('S + 15L', 'non-canonical S with the high bits set; equations hold', pk, msg, sig(s.slice(0, 32), sBig + 15n * L));
    }
  }

  // Small-order public keys: every torsion point, canonical encoding, with a signature that
  // satisfies BOTH equations where possible: R = [r]B, S = r, and a message whose k kills [k]A.
  TORSION.forEach((t, i) => {
    const pk = encode(t);
    const r = scalarOf(`small-A-${i}`);
    const rb = encode(mul(r, BASE));
    const { m } = messageWhere(`small-A-${i}`, rb, pk, (k) => equal(mul(k, t), ZERO));
    push(`small-order A: [${i}]T8`, 'public key of small order; the equations hold for every message with 8 | k, so anyone can "sign" under it', pk, m, sig(rb, r));
  });
  {
    const pk = encode(T8);
    const rb = encode(ZERO);
    push('small-order A and R, S = 0', 'identity R, zero S, order-8 key (speccheck-style case 0)', pk, utf8Encode('zero'), sig(rb, 0n));
  }

  // Small-order R under a mixed-order key: A = [a]B + T8, R = T8, S = k*a with -k*T8 = T8,
  // so [S]B - [k]A = -[k]T8 = R exactly: BOTH equations hold; only the small-order-R check refuses.
  {
    const a = scalarOf('mixed-for-small-R');
    const pk = encode(add(mul(a, BASE), T8));
    const rb = encode(T8);
    const { m, k } = messageWhere('small-R', rb, pk, (k) => k % 8n === 7n);
    push('small-order R, mixed-order A, both equations hold', 'R = T8 of order 8; rejected only because R has small order', pk, m, sig(rb, mod(k * a, L)));
  }

  // THE distinguishing case: mixed-order key A = [a]B + T8, signed the ordinary way.
  // [S]B - [k]A = R - [k]T8: the cofactored equation holds, the cofactorless one only if 8 | k.
  {
    const a = scalarOf('mixed-A');
    const { prefix } = expand(seedOf('mixed-A'));
    const pk = encode(add(mul(a, BASE), T8));
    const signMixed = (label: string, want: (k: bigint) => boolean): Uint8Array[] => {
      for (let i = 0; ; i++) {
        const m = utf8Encode(`${label}:${i}`);
        const r = hashToScalar(prefix, m);
        const rb = encode(mul(r, BASE));
        const k = hashToScalar(rb, pk, m);
        if (want(k)) return [m, sig(rb, mod(r + k * a, L))];
      }
    };
    const [m1, s1] = signMixed('mixed-A-cofactored-only', (k) => k % 8n !== 0n);
    push('mixed-order A, cofactored only', 'A = [a]B + T8 and k not divisible by 8: [8]([S]B - R - [k]A) = 0 but [S]B - [k]A != R; libsodium rejects, stock noble accepts', pk, m1!, s1!);
    const [m2, s2] = signMixed('mixed-A-both', (k) => k % 8n === 0n);
    push('mixed-order A, both equations hold', 'A = [a]B + T8 and 8 | k: the torsion part vanishes, so libsodium accepts a mixed-order key', pk, m2!, s2!);
  }

  // Mixed-order R under an ordinary key: R = [r]B + T8, S = r + k*a: cofactored only.
  {
    const { a } = expand(seedOf('prime-A'));
    const pk = encode(mul(a, BASE));
    const r = scalarOf('mixed-R');
    const m = utf8Encode('mixed R');
    const rb = encode(add(mul(r, BASE), T8));
    push('mixed-order R, cofactored only', 'R = [r]B + T8: the cofactored equation holds, the cofactorless one cannot', pk, m, sig(rb, mod(r + hashToScalar(rb, pk, m) * a, L)));
  }

  // Non-canonical A: y >= p. (a) y = p + 1, the identity: equations hold with R = [r]B, S = r.
  {
    const pk = nonCanonical(1n);
    const r = scalarOf('noncanonical-A');
    const rb = encode(mul(r, BASE));
    push('non-canonical A (y = p + 1, the identity)', 'A encoded with y >= p; equations hold because [k]A = 0', pk, utf8Encode('nc A'), sig(rb, r));
    push('non-canonical A (y = p, order 4)', 'A encoded with y >= p, a small-order point', nonCanonical(0n), utf8Encode('nc A'), sig(rb, r));
    // (b) the smallest y' in 2..18 that is on the curve: a point of large order encoded as y' + p.
    let yp = 2n;
    while (!decodeLoose(le(yp))) yp++;
    const { a, prefix } = expand(seedOf('valid-a'));
    const good = encode(mul(a, BASE));
    push(`non-canonical A (y = p + ${yp}, large order)`, 'A encoded with y >= p for a point not of small order; the signature is one by another key', nonCanonical(yp), utf8Encode('nc A'), signWith(a, prefix, good, utf8Encode('nc A')));
    push('negative-zero A (x = 0, sign bit set)', 'the identity encoded with the x sign bit set', le(1n | (1n << 255n)), utf8Encode('nc A'), sig(rb, r));
  }

  // Non-canonical R: the identity as y = p + 1 and as negative zero, with S = k*a so that
  // [S]B - [k]A = 0 = R as points: both equations hold; only the encoding checks refuse.
  {
    const { a } = expand(seedOf('prime-A'));
    const pk = encode(mul(a, BASE));
    for (const [label, rb] of [['y = p + 1', nonCanonical(1n)], ['negative zero', le(1n | (1n << 255n))], ['y = p, order 4', nonCanonical(0n)]] as const) {
      const m = utf8Encode(`nc R ${label}`);
      push(`non-canonical R (${label})`, 'R is a non-canonical encoding of a small-order point', pk, m, sig(rb, mod(hashToScalar(rb, pk, m) * a, L)));
    }
  }

  // A that is not a curve point at all.
  {
    let y = 2n;
    while (decodeLoose(le(y))) y++;
    push('A not on the curve', 'no x satisfies the curve equation for this y', le(y), utf8Encode('m'), sig(encode(BASE), 1n));
  }

  return {
    source:
      'generated by crypto/ed25519-edge.test.ts (buildEdgeVectors): independent BigInt Edwards arithmetic (RFC 8032 ' +
      'section 5.1) and node:crypto SHA-512; `expected` is libsodium 1.0.22 crypto_sign_verify_detached ' +
      '(libsodium-wrappers-sumo 0.8.4, ref10/open.c) as re-implemented by libsodiumRule and checked against libsodium itself; ' +
      '`cofactored`/`cofactorless` say which textbook equation holds (points decoded permissively). ' +
      'Case selection follows Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs" (SSR 2020).',
    vectors: out,
  };
}

// ---------------------------------------------------------------- tests

const vectorPath = new URL('../tests/vectors/ed25519-edge.json', import.meta.url);
if (process.env.HAVEN_WRITE_VECTORS === '1') {
  writeFileSync(vectorPath, JSON.stringify(buildEdgeVectors(), null, 2) + '\n');
}
const V = JSON.parse(readFileSync(vectorPath, 'utf8')) as { source: string; vectors: EdgeVector[] };
const sodiumP = await loadSodiumPrimitives();

describe('Ed25519 edge vectors (tests/vectors/ed25519-edge.json)', () => {
  it('the checked-in file is exactly what the generator produces', () => {
    expect(JSON.parse(JSON.stringify(buildEdgeVectors()))).toEqual(V);
  });

  it('the generator signs like RFC 8032 (section 7.1 test 1)', () => {
    const t = JSON.parse(readFileSync(new URL('../tests/vectors/primitives.json', import.meta.url), 'utf8')).ed25519_rfc8032_test1;
    const v = V.vectors.find((e) => e.name === 'valid: rfc8032-test1')!;
    expect([v.publicKey, v.signature]).toEqual([t.publicKey, t.signature]);
  });

  it('covers every case the rule must decide', () => {
    const names = V.vectors.map((v) => v.name).join('\n');
    for (const want of ['small-order A', 'small-order R', 'non-canonical A', 'non-canonical R', 'S + L', 'mixed-order A, cofactored only', 'valid']) {
      expect(names).toContain(want);
    }
    // the distinguishing vector really distinguishes
    const d = V.vectors.find((v) => v.name === 'mixed-order A, cofactored only')!;
    expect([d.cofactored, d.cofactorless, d.expected]).toEqual([true, false, false]);
  });

  it.each(V.vectors.map((v) => [v.name, v] as const))('libsodium gives the expected answer: %s', (_n, v) => {
    expect(sodiumP.ed25519Verify(h(v.signature), h(v.message), h(v.publicKey))).toBe(v.expected);
  });

  it.each(V.vectors.map((v) => [v.name, v] as const))('noble gives the same answer as libsodium: %s', (_n, v) => {
    const args = [h(v.signature), h(v.message), h(v.publicKey)] as const;
    expect(noblePrimitives.ed25519Verify(...args)).toBe(sodiumP.ed25519Verify(...args));
    expect(noblePrimitives.ed25519Verify(...args)).toBe(v.expected);
  });

  it("stock noble ed25519.verify (cofactored, zip215: false) accepts the mixed-order cases that libsodium's rule rejects", () => {
    for (const name of ['mixed-order A, cofactored only', 'mixed-order R, cofactored only']) {
      const v = V.vectors.find((e) => e.name === name)!;
      expect(ed25519.verify(h(v.signature), h(v.message), h(v.publicKey), { zip215: false }), name).toBe(true);
      expect(noblePrimitives.ed25519Verify(h(v.signature), h(v.message), h(v.publicKey)), name).toBe(false);
    }
  });

  it('both backends agree on random keys, messages and bit flips', () => {
    for (let i = 0; i < 30; i++) {
      const seed = sodiumP.randomBytes(32);
      const m = sodiumP.randomBytes(i * 5);
      const pk = sodiumP.ed25519KeypairFromSeed(seed).publicKey;
      const s = sodiumP.ed25519Sign(m, seed);
      expect(noblePrimitives.ed25519Sign(m, seed)).toEqual(s);
      expect(noblePrimitives.ed25519Verify(s, m, pk)).toBe(true);
      const bad = s.slice();
      bad[i % 64]! ^= 1 << (i % 8);
      expect(noblePrimitives.ed25519Verify(bad, m, pk)).toBe(sodiumP.ed25519Verify(bad, m, pk));
    }
  });
});
