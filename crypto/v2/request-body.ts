/**
 * The v2 request body (plaintext JSON inside a kind-1 message): the v1 body with `"v": 2` and a
 * REQUIRED `signPublicKey` (base64url, 32 bytes), the requester's Ed25519 key. The team checks
 * the request's own inner signature and every later follow-up in the thread with this key.
 *
 * Every other field follows v1 exactly: decoding hands the remaining fields, with `"v": 1`, to
 * v1's strict decoder, so the two versions cannot drift apart (limits, unknown keys, types).
 */
import { base64urlDecode, base64urlEncode, utf8Decode, utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import { decodeRequestBody, encodeRequestBody, parseRequestBodyJson, type RequestBody } from '../v1/request-body.ts';

export interface RequestBodyV2 extends RequestBody {
  signPublicKey: Uint8Array;
}

function validate(o: unknown): RequestBodyV2 {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new MalformedError('request body is not an object');
  const { v, signPublicKey, ...rest } = o as Record<string, unknown>;
  if (v !== 2) throw new MalformedError('unknown request body version');
  if (typeof signPublicKey !== 'string') throw new MalformedError('request field has wrong type');
  const key = base64urlDecode(signPublicKey);
  if (key.length !== 32) throw new MalformedError('request field has wrong length');
  const v1 = decodeRequestBody(utf8Encode(JSON.stringify({ v: 1, ...rest })));
  return { ...v1, signPublicKey: key };
}

/** @throws MalformedError if any field is missing, of the wrong type or too long. */
export function encodeRequestBodyV2(b: RequestBodyV2): Uint8Array {
  if (!(b.signPublicKey instanceof Uint8Array) || b.signPublicKey.length !== 32) throw new MalformedError('request field has wrong length');
  const { signPublicKey, ...v1Fields } = b;
  // v1's encoder validates and orders the shared fields; v2 replaces the version and adds the key.
  const o = JSON.parse(utf8Decode(encodeRequestBody(v1Fields))) as Record<string, unknown>;
  const out = { v: 2, signPublicKey: base64urlEncode(signPublicKey), ...Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'v')) };
  validate(out);
  return utf8Encode(JSON.stringify(out));
}

/** @throws MalformedError on invalid UTF-8, invalid JSON, a version other than 2 or any v1 rule. */
export function decodeRequestBodyV2(bytes: Uint8Array): RequestBodyV2 {
  return validate(parseRequestBodyJson(bytes));
}
