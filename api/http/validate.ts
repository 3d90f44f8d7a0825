/**
 * Input validation for routes: JSON bodies and their fields. Every failure is a typed
 * ValidationError whose message names the field but never repeats its value.
 */
import type { Context } from 'hono';
import { AppError, ValidationError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

/** Reads the body as a JSON object. @throws ValidationError on anything else. */
export async function readJsonObject(c: Context): Promise<JsonObject> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
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

/** Decodes strict unpadded base64url. @returns null when the text is not exactly that. */
export function decodeBase64url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray low bits), so one value has one spelling.
  if (bytes.toString('base64url') !== text) return null;
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
