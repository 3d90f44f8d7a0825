/**
 * Root hand-over statement v2 (type 0x15, 218 bytes): the old organisation root's signed word
 * that a new root replaces it, counter-signed by the new root (proof that whoever asks for the
 * hand-over holds the new seed):
 *
 *   0x02 | 0x15 | orgId(16) | serial(u32) | issuedHour(u32) | oldRootPublic(32) |
 *   newRootPublic(32) | sigOld(64) | sigNew(64)
 *   sigOld = Ed25519(old root, the 90 bytes before sigOld)
 *   sigNew = Ed25519(new root, the same 90 bytes)
 *
 * Why a chain and not just "the page's key": a dashboard pins the root it first saw (rule P2). A
 * page that embeds another root is either a legitimate rotation or a seized server's own root;
 * the pinned browser can tell them apart only by a signature of the root it already trusts.
 * Clients follow a chain of these from the root they pinned to the root the page embeds, and
 * accept nothing else. The statements are self-authenticating, so they may come from any API
 * answer: a server can withhold them (the client then refuses, as before) but cannot forge one.
 *
 * What it cannot stop, and why the page must ALSO embed the new root: a removed admin who kept
 * the old seed can sign a hand-over to a root of their own. Such a chain is followed only to a
 * root that the page itself embeds (deployment configuration, covered by the signed site
 * manifest), so the attacker needs both the old seed and the served pages.
 */
import { ByteReader, ByteWriter, hexEncode } from '../encoding.ts';
import { MalformedError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { checkId, checkU32 } from '../v1/constants.ts';
import { ObjectTypeV2, readVersionAndTypeV2, VERSION_V2 } from './constants.ts';

export const ROOT_HANDOVER_BYTES = 218;
const SIGNED_BYTES = 90;
/** A chain longer than this is refused (bounds the work a server can make a client do). */
export const ROOT_HANDOVER_MAX_CHAIN = 64;

export interface RootHandoverFields {
  orgId: Uint8Array;
  /** strictly increasing along a chain: a client never steps back to an older hand-over */
  serial: number;
  issuedHour: number;
  oldRootPublic: Uint8Array;
  newRootPublic: Uint8Array;
}

function checkFields(f: RootHandoverFields): void {
  checkId(f.orgId);
  checkU32(f.serial);
  checkU32(f.issuedHour);
  for (const key of [f.oldRootPublic, f.newRootPublic]) {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new MalformedError('root public key must be 32 bytes');
  }
}

function signedPart(f: RootHandoverFields): Uint8Array {
  return new ByteWriter()
    .u8(VERSION_V2).u8(ObjectTypeV2.rootHandover)
    .bytes(f.orgId, 16).u32(f.serial).u32(f.issuedHour)
    .bytes(f.oldRootPublic, 32).bytes(f.newRootPublic, 32)
    .finish();
}

/**
 * Signs a hand-over with both seeds (the admin's browser, during the rotation ceremony).
 * @throws MalformedError on bad sizes, or when either seed does not match its public key
 *   (a statement that would never verify is refused here rather than uploaded).
 */
export function signRootHandover(p: Primitives, oldRootSeed: Uint8Array, newRootSeed: Uint8Array, f: RootHandoverFields): Uint8Array {
  checkFields(f);
  if (!p.constantTimeEqual(p.ed25519KeypairFromSeed(oldRootSeed).publicKey, f.oldRootPublic)) throw new MalformedError('old root seed does not match the old root key');
  if (!p.constantTimeEqual(p.ed25519KeypairFromSeed(newRootSeed).publicKey, f.newRootPublic)) throw new MalformedError('new root seed does not match the new root key');
  if (p.constantTimeEqual(f.oldRootPublic, f.newRootPublic)) throw new MalformedError('a hand-over must name a different root');
  const body = signedPart(f);
  return new ByteWriter().bytes(body).bytes(p.ed25519Sign(body, oldRootSeed), 64).bytes(p.ed25519Sign(body, newRootSeed), 64).finish();
}

/**
 * Structure only, no signature checked. @throws version errors / MalformedError.
 */
export function parseRootHandoverUnverified(bytes: Uint8Array): RootHandoverFields & { sigOld: Uint8Array; sigNew: Uint8Array } {
  const r = new ByteReader(bytes);
  readVersionAndTypeV2(r, ObjectTypeV2.rootHandover);
  const f: RootHandoverFields = {
    orgId: r.bytes(16),
    serial: r.u32(),
    issuedHour: r.u32(),
    oldRootPublic: r.bytes(32),
    newRootPublic: r.bytes(32),
  };
  const sigOld = r.bytes(64);
  const sigNew = r.bytes(64);
  r.end();
  checkFields(f);
  return { ...f, sigOld, sigNew };
}

/**
 * Verifies both signatures of one hand-over and that it belongs to `orgId`.
 * @throws version errors / MalformedError on structure; SignatureError on either signature or
 *   another organisation.
 */
export function verifyRootHandover(p: Primitives, bytes: Uint8Array, orgId: Uint8Array): RootHandoverFields {
  const s = parseRootHandoverUnverified(bytes);
  const body = bytes.subarray(0, SIGNED_BYTES);
  if (!p.ed25519Verify(s.sigOld, body, s.oldRootPublic)) throw new SignatureError('hand-over not signed by the old root');
  if (!p.ed25519Verify(s.sigNew, body, s.newRootPublic)) throw new SignatureError('hand-over not counter-signed by the new root');
  if (!p.constantTimeEqual(s.orgId, orgId)) throw new SignatureError('hand-over names another organisation');
  const { sigOld: _o, sigNew: _n, ...fields } = s;
  return fields;
}

export interface RootChainArgs {
  orgId: Uint8Array;
  /** the root this client trusted before (its pin) */
  pinnedRoot: Uint8Array;
  /** the root the page embeds now (deployment configuration) */
  targetRoot: Uint8Array;
  /** hand-over statements from anywhere (an API answer): unordered, possibly with junk */
  handovers: readonly Uint8Array[];
}

/**
 * Finds a chain of verified hand-overs from `pinnedRoot` to `targetRoot` with strictly
 * increasing serials. Statements that do not verify are ignored (a server may add junk; it
 * cannot add a verifying link without a root seed). Forks (an old root that signed two
 * hand-overs, e.g. a removed admin who kept the seed) are searched, but only a chain that ends
 * at the page's own root counts.
 * @returns the links followed, in order (empty when the roots are equal).
 * @throws SignatureError when no verified chain leads from the pinned root to the target;
 *   MalformedError when more than ROOT_HANDOVER_MAX_CHAIN statements are offered.
 */
export function followRootChain(p: Primitives, a: RootChainArgs): RootHandoverFields[] {
  if (p.constantTimeEqual(a.pinnedRoot, a.targetRoot)) return [];
  if (a.handovers.length > ROOT_HANDOVER_MAX_CHAIN) throw new MalformedError('too many hand-over statements');
  const links: RootHandoverFields[] = [];
  for (const bytes of a.handovers) {
    try {
      links.push(verifyRootHandover(p, bytes, a.orgId));
    } catch {
      // not a genuine link of this organisation: ignored, never followed
    }
  }
  const byOld = new Map<string, RootHandoverFields[]>();
  for (const link of links) {
    const key = hexEncode(link.oldRootPublic);
    byOld.set(key, [...(byOld.get(key) ?? []), link]);
  }
  const target = hexEncode(a.targetRoot);
  // Depth-first over strictly increasing serials (so no cycle). A link that led nowhere once
  // leads nowhere again (what follows it depends only on the link), so each is tried once:
  // a server cannot make a client walk exponentially many paths through forks.
  const deadEnds = new Set<RootHandoverFields>();
  const walk = (root: string, minSerial: number, path: RootHandoverFields[]): RootHandoverFields[] | null => {
    if (root === target) return path;
    for (const link of byOld.get(root) ?? []) {
      if (link.serial <= minSerial || deadEnds.has(link)) continue;
      const found = walk(hexEncode(link.newRootPublic), link.serial, [...path, link]);
      if (found) return found;
      deadEnds.add(link);
    }
    return null;
  };
  const chain = walk(hexEncode(a.pinnedRoot), -1, []);
  if (!chain) throw new SignatureError('no hand-over chain from the pinned root to this page\'s root');
  return chain;
}
