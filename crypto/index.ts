/**
 * Haven's crypto: the public API the API server and both front ends import.
 *
 * Pure (no I/O, no Node built-ins): runs unchanged in Node and the browser. Pick a backend
 * (`loadSodiumPrimitives()` where WebAssembly exists, `noblePrimitives` where it does not)
 * and pass it as the first argument of every protocol function.
 */
import { MalformedError, UnknownVersionError } from './errors.ts';
import { checkVersionByte, VERSION } from './v1/constants.ts';

export * from './errors.ts';
export * from './encoding.ts';
export type { Primitives, X25519Keypair, Ed25519Keypair, Blake2bOptions, SecretStream } from './primitives.ts';
export { loadSodiumPrimitives } from './sodium.ts';
export { noblePrimitives } from './noble.ts';
export * from './v1/index.ts';

/** Protocol versions this build understands. */
export const SUPPORTED_VERSIONS: readonly number[] = [VERSION];

/**
 * Dispatcher: the protocol version of any Haven blob (byte 0), checked before anything else
 * reads it. Callers switch on the result to pick the version's module (only v1 exists).
 * @throws MalformedError for an empty blob; UnsupportedVersionError for a retired version;
 *   UnknownVersionError for anything else but 1.
 */
export function blobVersion(blob: Uint8Array): 1 {
  if (blob.length === 0) throw new MalformedError('empty blob');
  checkVersionByte(blob[0]!);
  if (blob[0] !== 1) throw new UnknownVersionError();
  return 1;
}
