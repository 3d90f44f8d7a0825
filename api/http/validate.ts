/**
 * Input validation for routes, in one place: JSON bodies and their fields, query and path
 * integers, query byte strings. Every failure is a typed ValidationError (or NotFoundError
 * for a path segment) whose message names the field but never repeats its value.
 *
 * Integers are checked against the column they end up in: every integer the API stores or
 * compares in SQL is a PostgreSQL `integer`, so a value past INT4_MAX is refused here rather
 * than reaching the database as an out-of-range error (a 500).
 */
import type { Context } from 'hono';
import { AppError, NotFoundError, ValidationError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

/** The largest PostgreSQL `integer` (int4): the type of every integer column. */
export const INT4_MAX = 2_147_483_647;

/**
 * True for `application/json`, with or without parameters (`; charset=utf-8`), in any case
 * (media types are case-insensitive). Not `application/jsonx`, `text/json` or `+json` types:
 * the type must match exactly, so no other parser's input is taken for JSON.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  const essence = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return essence === 'application/json';
}

/** Reads the body as a JSON object. @throws AppError 415 for another media type; ValidationError for anything but a JSON object. */
export async function readJsonObject(c: Context): Promise<JsonObject> {
  if (!isJsonMediaType(c.req.header('content-type'))) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json.', 415);
  }
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new ValidationError('The body is not valid JSON.', 'bad_request');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('The body must be a JSON object.', 'bad_request');
  }
  return value as JsonObject;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The 6-bit value of a base64url character (the text already matched BASE64URL). */
function base64urlValue(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  return code === 45 ? 62 : 63; // '-' or '_'
}

/** Decodes strict unpadded base64url. @returns null when the text is not exactly that. */
export function decodeBase64url(text: string): Uint8Array | null {
  const tail = text.length % 4;
  if (tail === 1 || !BASE64URL.test(text)) return null;
  // Reject non-canonical encodings (stray low bits), so one value has one spelling: the last
  // character of a 2- or 3-character tail carries 4 or 2 bits that no byte uses, and they must
  // be zero. (The same test as decoding and re-encoding, without a second copy of the text.)
  if (tail !== 0 && (base64urlValue(text.charCodeAt(text.length - 1)) & (tail === 2 ? 0x0f : 0x03)) !== 0) return null;
  const bytes = Buffer.from(text, 'base64url');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

export interface BytesRule {
  /** exact length in bytes */
  length?: number;
  maxLength?: number;
}

/** A required base64url field. @throws ValidationError naming the field. */
export function bytesField(body: JsonObject, name: string, rule: BytesRule = {}): Uint8Array {
  const value = body[name];
  if (typeof value !== 'string') throw new ValidationError(`Field "${name}" is required (base64url).`);
  if (rule.maxLength !== undefined && value.length > Math.ceil((rule.maxLength * 4) / 3) + 4) {
    throw new ValidationError(`Field "${name}" is too long.`, 'payload_too_large');
  }
  const bytes = decodeBase64url(value);
  if (bytes === null) throw new ValidationError(`Field "${name}" is not valid base64url.`);
  if (rule.length !== undefined && bytes.length !== rule.length) {
    throw new ValidationError(`Field "${name}" must be ${rule.length} bytes.`);
  }
  if (rule.maxLength !== undefined && bytes.length > rule.maxLength) {
    throw new ValidationError(`Field "${name}" is too long.`, 'payload_too_large');
  }
  return bytes;
}

/** A required nested object. @throws ValidationError naming the field. */
export function objectField(body: JsonObject, name: string): JsonObject {
  const value = body[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`Field "${name}" must be an object.`);
  }
  return value as JsonObject;
}

/** A required string from a closed set. @throws ValidationError naming the field. */
export function enumField<T extends string>(body: JsonObject, name: string, allowed: readonly T[]): T {
  const value = body[name];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(`Field "${name}" must be one of: ${allowed.join(', ')}.`);
  }
  return value as T;
}

/** A required whole number from min to max (max at most INT4_MAX). @throws ValidationError naming the field. */
export function intField(body: JsonObject, name: string, min: number, max: number): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > Math.min(max, INT4_MAX)) {
    throw new ValidationError(`Field "${name}" must be a whole number from ${min} to ${Math.min(max, INT4_MAX)}.`);
  }
  return v;
}

/** Plain decimal digits, no sign, no leading zero, at most 10 digits (INT4_MAX has 10). */
const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;

/** Parses plain decimal text within [min, max] (max at most INT4_MAX). @returns null otherwise. */
export function parseWholeNumber(text: string, min: number, max: number): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= Math.min(max, INT4_MAX) ? n : null;
}

/**
 * An optional whole-number query parameter; absent or empty gives `fallback`.
 * @throws ValidationError naming the parameter for anything but plain decimal digits in [min, max].
 */
export function queryInt(c: Context, name: string, rule: { min: number; max: number; fallback: number }): number {
  const value = c.req.query(name);
  if (value === undefined || value === '') return rule.fallback;
  const n = parseWholeNumber(value, rule.min, rule.max);
  if (n === null) throw new ValidationError(`Query parameter "${name}" must be a whole number from ${rule.min} to ${Math.min(rule.max, INT4_MAX)}.`);
  return n;
}

/**
 * A whole-number path segment (such as an epoch). One that cannot exist is as unknown as
 * one that does not.
 * @throws NotFoundError for anything but plain decimal digits in [min, INT4_MAX].
 */
export function pathInt(c: Context, name: string, min: number, what: string): number {
  const n = parseWholeNumber(c.req.param(name) ?? '', min, INT4_MAX);
  if (n === null) throw new NotFoundError(`No such ${what}.`);
  return n;
}

/**
 * An optional base64url query parameter of exactly `length` bytes; absent or empty gives undefined.
 * @throws ValidationError naming the parameter otherwise.
 */
export function queryBytes(c: Context, name: string, length: number): Uint8Array | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  // Length-check the text before decoding: a megabyte of query must not be decoded to be refused.
  const bytes = value.length <= Math.ceil((length * 4) / 3) ? decodeBase64url(value) : null;
  if (bytes === null || bytes.length !== length) throw new ValidationError(`Query parameter "${name}" is not valid.`);
  return bytes;
}
