/**
 * Haven's crypto: the public API the API server and both front ends import.
 *
 * Pure (no I/O, no Node built-ins): runs unchanged in Node and the browser. Pick a backend
 * (`loadSodiumPrimitives()` where WebAssembly exists, `noblePrimitives` where it does not)
 * and pass it as the first argument of every protocol function.
 */
import { MalformedError, UnknownVersionError, UnsupportedVersionError } from './errors.ts';
import type { Primitives } from './primitives.ts';
import { checkVersionByte, RETIRED_VERSIONS, VERSION } from './v1/constants.ts';
import { openMessage, parseMessageHeader, type MessageHeader } from './v1/message.ts';
import { VERSION_V2 } from './v2/constants.ts';
import {
  openMessageV2, parseMessageHeaderV2, type MessageHeaderV2, type OpenMessageV2Args, type VerifiedAuthor,
} from './v2/message.ts';

export * from './errors.ts';
export * from './encoding.ts';
export type { Primitives, X25519Keypair, Ed25519Keypair, Blake2bOptions, SecretStream } from './primitives.ts';
export { loadSodiumPrimitives } from './sodium.ts';
export { noblePrimitives } from './noble.ts';
export * from './v1/index.ts';
export * from './v2/index.ts';
export { teamKeyVersion, verifyCurrentTeamKey, verifyHistoricTeamKey } from './team-key-any.ts';
export type { VerifiedTeamKey, TeamKeyCheck } from './team-key-any.ts';

/** Protocol versions this build understands. */
export const SUPPORTED_VERSIONS: readonly number[] = [VERSION, VERSION_V2];

/**
 * Dispatcher: the protocol version of any Haven blob (byte 0), checked before anything else
 * reads it. Callers switch on the result to pick the version's module.
 * @throws MalformedError for an empty blob; UnsupportedVersionError for a retired version;
 *   UnknownVersionError for anything but 1 and 2.
 */
export function blobVersion(blob: Uint8Array): 1 | 2 {
  if (blob.length === 0) throw new MalformedError('empty blob');
  const v = blob[0]!;
  if (RETIRED_VERSIONS.has(v)) throw new UnsupportedVersionError();
  if (v === VERSION_V2) return 2;
  checkVersionByte(v); // 1, or UnknownVersionError
  if (v !== 1) throw new UnknownVersionError();
  return 1;
}

export type AnyMessageHeader = { version: 1; header: MessageHeader } | { version: 2; header: MessageHeaderV2 };

/**
 * The server's strict structural check for a thread message of either version.
 * @throws as parseMessageHeader / parseMessageHeaderV2, and blobVersion.
 */
export function parseMessageHeaderAny(bytes: Uint8Array): AnyMessageHeader {
  return blobVersion(bytes) === 2
    ? { version: 2, header: parseMessageHeaderV2(bytes) }
    : { version: 1, header: parseMessageHeader(bytes) };
}

export type OpenedAnyMessage =
  | {
      version: 1;
      header: MessageHeader;
      /** v1 has no signed author: pages must show these as "author not verified (older format)" */
      author: { type: 'unverified' };
      body: Uint8Array;
    }
  | { version: 2; header: MessageHeaderV2; author: VerifiedAuthor; body: Uint8Array };

/**
 * Opens a thread message of either version. A v2 message's author is verified (see
 * openMessageV2); a v1 message has none, and says so with author.type 'unverified', so a page
 * can mark it. The caller decides whether v1 is still acceptable where it is (e.g. refuse v1 in
 * a thread that started as v2: a server could otherwise strip signatures by re-sending v1).
 * @throws as openMessage / openMessageV2, and blobVersion.
 */
export function openMessageAny(p: Primitives, bytes: Uint8Array, a: OpenMessageV2Args): OpenedAnyMessage {
  if (blobVersion(bytes) === 2) return { version: 2, ...openMessageV2(p, bytes, a) };
  const { position: _pos, ...expected } = a.expected;
  const r = openMessage(p, bytes, { recipientKind: a.recipientKind, secret: a.secret, recipientPublic: a.recipientPublic, expected });
  return { version: 1, header: r.header, author: { type: 'unverified' }, body: r.body };
}
