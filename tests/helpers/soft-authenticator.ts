/**
 * A software WebAuthn authenticator for API tests (no browser): ES256 keys from node:crypto,
 * `none` attestation, a signature counter, and every field an attacker could choose (origin,
 * RP ID, counter, challenge) open to change. The browser suites use Chromium's virtual
 * authenticator instead; this one lets the API tests forge what a browser never would.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

export interface SoftCredential {
  id: Uint8Array;
  privateKey: KeyObject;
  counter: number;
  rpId: string;
}

export interface Overrides {
  origin?: string;
  rpId?: string;
  type?: string;
  challenge?: string;
  counter?: number;
}

/** A new credential and the registration answer to `options` (from the registration-options endpoint). */
export function register(options: { challenge: string; rp: { id?: string } }, origin: string, over: Overrides = {}): { credential: SoftCredential; response: unknown } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = new Map<number, number | Uint8Array>([
    [1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))], [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  const id = new Uint8Array(createHash('sha256').update(String(Math.random())).digest()).subarray(0, 16);
  const rpId = over.rpId ?? options.rp.id!;
  const clientData = new TextEncoder().encode(JSON.stringify({ type: over.type ?? 'webauthn.create', challenge: over.challenge ?? options.challenge, origin: over.origin ?? origin, crossOrigin: false }));
  const idLen = new Uint8Array([id.length >> 8, id.length & 0xff]);
  const authData = concat(sha256(new TextEncoder().encode(rpId)), new Uint8Array([0x45]), u32(0), new Uint8Array(16), idLen, id, isoCBOR.encode(cose));
  const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
  return {
    credential: { id, privateKey, counter: 0, rpId: options.rp.id! },
    response: {
      id: b64u(id), rawId: b64u(id), type: 'public-key', clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientData), attestationObject: b64u(attestationObject), transports: ['internal'] },
    },
  };
}

/** The assertion answer to `options` (from the assertion-options endpoint); counts the counter up. */
export function assert(credential: SoftCredential, optionsJson: object, origin: string, over: Overrides = {}): unknown {
  const options = optionsJson as { challenge: string };
  credential.counter = over.counter ?? credential.counter + 1;
  const clientData = new TextEncoder().encode(JSON.stringify({ type: over.type ?? 'webauthn.get', challenge: over.challenge ?? options.challenge, origin: over.origin ?? origin, crossOrigin: false }));
  const authData = concat(sha256(new TextEncoder().encode(over.rpId ?? credential.rpId)), new Uint8Array([0x05]), u32(credential.counter));
  const signature = sign('sha256', concat(authData, sha256(clientData)), credential.privateKey);
  return {
    id: b64u(credential.id), rawId: b64u(credential.id), type: 'public-key', clientExtensionResults: {},
    response: { authenticatorData: b64u(authData), clientDataJSON: b64u(clientData), signature: b64u(signature) },
  };
}
