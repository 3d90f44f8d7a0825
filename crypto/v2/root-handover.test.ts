/**
 * Root hand-over statements (type 0x15) and the chain a pinned client follows: known answers
 * on both backends (tests/vectors/v2-root-handover.json; HAVEN_WRITE_VECTORS=1 regenerates it
 * with libsodium), and the attacks of a server that wants a pinned dashboard to trust its own
 * root. Ed25519 signatures are deterministic, so no test randomness is involved.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x } from '../encoding.ts';
import { MalformedError, SignatureError, UnknownVersionError } from '../errors.ts';
import { noblePrimitives } from '../noble.ts';
import type { Primitives } from '../primitives.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { FIXED } from '../test-vectors.ts';
import { FIXED_V2 } from './test-vectors.ts';
import {
  followRootChain, parseRootHandoverUnverified, ROOT_HANDOVER_BYTES, ROOT_HANDOVER_MAX_CHAIN, signRootHandover, verifyRootHandover,
} from './root-handover.ts';

const sodiumP = await loadSodiumPrimitives();
const backends = [sodiumP, noblePrimitives];
const orgId = h(FIXED.orgId);
/** Three root seeds: the original root (FIXED.rootSeed), its successor, and the one after. */
const SEEDS = [FIXED.rootSeed, 'a1'.repeat(32), 'b2'.repeat(32)].map(h);
const ATTACKER_SEED = h('c3'.repeat(32));

function pub(p: Primitives, seed: Uint8Array): Uint8Array {
  return p.ed25519KeypairFromSeed(seed).publicKey;
}

function handover(p: Primitives, from: Uint8Array, to: Uint8Array, serial: number, org = orgId): Uint8Array {
  return signRootHandover(p, from, to, { orgId: org, serial, issuedHour: FIXED_V2.issuedHour + serial, oldRootPublic: pub(p, from), newRootPublic: pub(p, to) });
}

function buildVectors(p: Primitives) {
  return {
    source: 'crypto/v2/root-handover.test.ts: signRootHandover with the seeds below (Ed25519 is deterministic)',
    orgId: FIXED.orgId,
    rootSeeds: SEEDS.map(x),
    rootPublics: SEEDS.map((s) => x(pub(p, s))),
    handover1: { serial: 1, issuedHour: FIXED_V2.issuedHour + 1, bytes: x(handover(p, SEEDS[0]!, SEEDS[1]!, 1)) },
    handover2: { serial: 2, issuedHour: FIXED_V2.issuedHour + 2, bytes: x(handover(p, SEEDS[1]!, SEEDS[2]!, 2)) },
  };
}

const vectorPath = new URL('../../tests/vectors/v2-root-handover.json', import.meta.url);
if (process.env.HAVEN_WRITE_VECTORS === '1') writeFileSync(vectorPath, JSON.stringify(buildVectors(sodiumP), null, 2) + '\n');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(vectorPath, 'utf8'));

describe.each(backends)('root hand-over statement v2 ($name)', (p) => {
  const roots = SEEDS.map((s) => pub(p, s));

  it('reproduces the checked-in vectors byte for byte and verifies them (218 bytes)', () => {
    expect(buildVectors(p)).toEqual(V);
    const bytes = h(V.handover1.bytes);
    expect(bytes.length).toBe(ROOT_HANDOVER_BYTES);
    const f = verifyRootHandover(p, bytes, orgId);
    expect([f.serial, f.issuedHour, x(f.oldRootPublic), x(f.newRootPublic)]).toEqual([1, V.handover1.issuedHour, V.rootPublics[0], V.rootPublics[1]]);
  });

  it('follows a chain from the pinned root to the page root, in serial order, whatever order the server sends', () => {
    const chain = followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: roots[2]!, handovers: [h(V.handover2.bytes), h(V.handover1.bytes)] });
    expect(chain.map((l) => l.serial)).toEqual([1, 2]);
    expect(followRootChain(p, { orgId, pinnedRoot: roots[1]!, targetRoot: roots[2]!, handovers: [h(V.handover1.bytes), h(V.handover2.bytes)] })).toHaveLength(1);
    expect(followRootChain(p, { orgId, pinnedRoot: roots[2]!, targetRoot: roots[2]!, handovers: [] })).toEqual([]);
  });

  it('[root swap] a server root with no hand-over from the pinned root is refused, even beside genuine links', () => {
    const attacker = pub(p, ATTACKER_SEED);
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: attacker, handovers: [h(V.handover1.bytes), h(V.handover2.bytes)] })).toThrow(SignatureError);
    // The attacker signs a hand-over of its own root with its own key "as" the old root: the old signature fails.
    const forged = h(V.handover1.bytes).slice();
    forged.set(attacker, 2 + 16 + 8 + 32);
    expect(() => verifyRootHandover(p, forged, orgId)).toThrow(SignatureError);
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: attacker, handovers: [forged] })).toThrow(SignatureError);
  });

  it('[no proof of possession] a hand-over whose new root did not counter-sign is refused', () => {
    const bytes = h(V.handover1.bytes).slice();
    bytes.set(h(V.handover2.bytes).subarray(154, 218), 154);
    expect(() => verifyRootHandover(p, bytes, orgId)).toThrow(/counter-signed/);
  });

  it('[flipped bit] every signed byte is covered by both signatures', () => {
    const good = h(V.handover1.bytes);
    for (const i of [2, 17, 18, 22, 26, 57, 89, 90, 153, 154, 217]) {
      const bad = good.slice();
      bad[i]! ^= 0x01;
      expect(() => verifyRootHandover(p, bad, orgId), `byte ${i}`).toThrow(SignatureError);
    }
  });

  it('[cross-organisation] a genuine hand-over of another organisation is not a link of this one', () => {
    const other = handover(p, SEEDS[0]!, SEEDS[1]!, 1, h('ff'.repeat(16)));
    expect(() => verifyRootHandover(p, other, orgId)).toThrow(/another organisation/);
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: roots[1]!, handovers: [other] })).toThrow(SignatureError);
  });

  it('[rollback] serials must strictly increase along the chain', () => {
    const back = handover(p, SEEDS[1]!, SEEDS[2]!, 1); // serial 1 after serial 1
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: roots[2]!, handovers: [h(V.handover1.bytes), back] })).toThrow(SignatureError);
  });

  it('[fork] a removed admin who kept the old seed can sign a hand-over to their own root; it is followed only to a root the page embeds', () => {
    const attacker = pub(p, ATTACKER_SEED);
    const fork = handover(p, SEEDS[0]!, ATTACKER_SEED, 1);
    const handovers = [fork, h(V.handover1.bytes), h(V.handover2.bytes)];
    // The legitimate page (embedding root 2) is reached past the fork.
    expect(followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: roots[2]!, handovers }).map((l) => x(l.newRootPublic))).toEqual([x(roots[1]!), x(roots[2]!)]);
    // A page embedding the attacker's root would be followed: the page's root is the second
    // anchor (deployment configuration, the signed site manifest), as docs/PROTOCOL.md says.
    expect(followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: attacker, handovers })).toHaveLength(1);
    // A browser that pinned root 1 (after the rotation) never follows the fork from root 0.
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[1]!, targetRoot: attacker, handovers })).toThrow(SignatureError);
  });

  it('[work bound] more than ROOT_HANDOVER_MAX_CHAIN statements are refused before any is verified', () => {
    const many = Array.from({ length: ROOT_HANDOVER_MAX_CHAIN + 1 }, () => h(V.handover1.bytes));
    expect(() => followRootChain(p, { orgId, pinnedRoot: roots[0]!, targetRoot: roots[1]!, handovers: many })).toThrow(MalformedError);
  });

  it('refuses malformed statements with typed errors', () => {
    const good = h(V.handover1.bytes);
    expect(() => parseRootHandoverUnverified(good.subarray(0, 217))).toThrow(MalformedError);
    expect(() => parseRootHandoverUnverified(new Uint8Array([...good, 0]))).toThrow(MalformedError);
    const v9 = good.slice();
    v9[0] = 0x09;
    expect(() => parseRootHandoverUnverified(v9)).toThrow(UnknownVersionError);
    const type = good.slice();
    type[1] = 0x10;
    expect(() => parseRootHandoverUnverified(type)).toThrow(MalformedError);
  });

  it('refuses to sign a statement that could never verify', () => {
    const f = { orgId, serial: 1, issuedHour: 1, oldRootPublic: roots[0]!, newRootPublic: roots[1]! };
    expect(() => signRootHandover(p, SEEDS[2]!, SEEDS[1]!, f)).toThrow(/old root seed/);
    expect(() => signRootHandover(p, SEEDS[0]!, SEEDS[2]!, f)).toThrow(/new root seed/);
    expect(() => signRootHandover(p, SEEDS[0]!, SEEDS[0]!, { ...f, newRootPublic: roots[0]! })).toThrow(/different root/);
  });
});
