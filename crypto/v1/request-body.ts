/**
 * The plaintext JSON inside a request message (UTF-8), with strict validation on both sides.
 * Decoding is strict (unknown keys, wrong types, oversize strings rejected) because the
 * decoded object is hostile input on the responder's machine: it is rendered as text only,
 * and nothing in it may smuggle fields the dashboard does not expect.
 */
import { base64urlDecode, base64urlEncode, utf8Decode, utf8Encode } from '../encoding.ts';
import { CryptoError, MalformedError } from '../errors.ts';
import type { Argon2Params } from './account.ts';
import { ARGON2_MAX_PARAMS } from './account.ts';

export interface AttachmentRef {
  name: string;
  type: string;
  size: number;
  /** 32-byte per-file secretstream key */
  key: Uint8Array;
  /** 16-byte random id of the stored attachment blob */
  streamId: Uint8Array;
}

export interface RequestBody {
  topic?: string;
  message: string;
  contact?: string;
  replyPublicKey: Uint8Array;
  argon: Argon2Params;
  attachments?: AttachmentRef[];
}

export const REQUEST_LIMITS = Object.freeze({
  topic: 200,
  contact: 1000,
  attachmentName: 255,
  attachmentType: 127,
  attachments: 10,
  attachmentSize: 50 * 1024 * 1024,
});

function str(v: unknown, max: number, allowEmpty: boolean): string {
  if (typeof v !== 'string') throw new MalformedError('request field has wrong type');
  if ((!allowEmpty && v.length === 0) || v.length > max) throw new MalformedError('request field has wrong length');
  return v;
}

function bytes(v: unknown, n: number): Uint8Array {
  if (typeof v !== 'string') throw new MalformedError('request field has wrong type');
  const b = base64urlDecode(v);
  if (b.length !== n) throw new MalformedError('request field has wrong length');
  return b;
}

function int(v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new MalformedError('request field out of range');
  return v;
}

function onlyKeys(o: object, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new MalformedError('unknown request field');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validate(o: unknown): RequestBody {
  if (!isObject(o)) throw new MalformedError('request body is not an object');
  onlyKeys(o, ['v', 'topic', 'message', 'contact', 'replyPublicKey', 'argon', 'attachments']);
  if (o.v !== 1) throw new MalformedError('unknown request body version');
  const out: RequestBody = {
    message: str(o.message, 65536, false),
    replyPublicKey: bytes(o.replyPublicKey, 32),
    argon: (() => {
      if (!isObject(o.argon)) throw new MalformedError('argon must be an object');
      onlyKeys(o.argon, ['ops', 'memKiB']);
      return { ops: int(o.argon.ops, 1, ARGON2_MAX_PARAMS.ops), memKiB: int(o.argon.memKiB, 8, ARGON2_MAX_PARAMS.memKiB) };
    })(),
  };
  if (o.topic !== undefined) out.topic = str(o.topic, REQUEST_LIMITS.topic, false);
  if (o.contact !== undefined) out.contact = str(o.contact, REQUEST_LIMITS.contact, false);
  if (o.attachments !== undefined) {
    if (!Array.isArray(o.attachments) || o.attachments.length > REQUEST_LIMITS.attachments) {
      throw new MalformedError('attachments must be a short array');
    }
    out.attachments = o.attachments.map((a: unknown) => {
      if (!isObject(a)) throw new MalformedError('attachment is not an object');
      onlyKeys(a, ['name', 'type', 'size', 'key', 'streamId']);
      return {
        name: str(a.name, REQUEST_LIMITS.attachmentName, false),
        type: str(a.type, REQUEST_LIMITS.attachmentType, true),
        size: int(a.size, 0, REQUEST_LIMITS.attachmentSize),
        key: bytes(a.key, 32),
        streamId: bytes(a.streamId, 16),
      };
    });
  }
  return out;
}

/** @throws MalformedError if any field is missing, of the wrong type or too long. */
export function encodeRequestBody(b: RequestBody): Uint8Array {
  const o: Record<string, unknown> = { v: 1 };
  if (b.topic !== undefined) o.topic = b.topic;
  o.message = b.message;
  if (b.contact !== undefined) o.contact = b.contact;
  o.replyPublicKey = base64urlEncode(b.replyPublicKey);
  o.argon = { ops: b.argon.ops, memKiB: b.argon.memKiB };
  if (b.attachments !== undefined) {
    o.attachments = b.attachments.map((a) => ({
      name: a.name, type: a.type, size: a.size, key: base64urlEncode(a.key), streamId: base64urlEncode(a.streamId),
    }));
  }
  validate(o); // the writer obeys the same rules as the reader
  return utf8Encode(JSON.stringify(o));
}

/**
 * The JSON value of a request body, before any validation (shared by every body version).
 * @throws MalformedError on invalid UTF-8 or invalid JSON.
 */
export function parseRequestBodyJson(bytes: Uint8Array): unknown {
  const text = utf8Decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new MalformedError('request body is not JSON');
  }
}

/** @throws MalformedError on invalid UTF-8, invalid JSON or any validation failure. */
export function decodeRequestBody(bytes: Uint8Array): RequestBody {
  return validate(parseRequestBodyJson(bytes));
}
