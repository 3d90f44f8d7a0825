/**
 * A list row as the dashboard holds it: the server's row, its decrypted body (or why it did
 * not open), the excerpt shown and the lower-cased text the search runs over. Pure, with no
 * page state, so the listing benchmark (bench/triage-listing.bench.ts) times exactly the
 * code the list uses to make a decrypted row ready to render.
 */
import type { RequestBody } from '../../crypto/v1/request-body.ts';
import type { Opened, RequestRowJson } from './keys.ts';

export const EXCERPT_CHARS = 160;

export interface Row {
  json: RequestRowJson;
  body: RequestBody | null;
  failure: 'no_key' | 'unreadable' | null;
  excerpt: string;
  /** lower-cased decrypted text of the request and, once opened, of its thread */
  haystack: string;
}

function excerptOf(body: RequestBody): string {
  const text = body.message.replace(/\s+/g, ' ').trim();
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
}

/** The row for one opened (or failed) request; a failure keeps its row, marked with the reason. */
export function toRow(json: RequestRowJson, opened: Opened<RequestBody>): Row {
  if (!opened.ok) return { json, body: null, failure: opened.reason, excerpt: '', haystack: '' };
  const b = opened.value;
  const haystack = [b.topic ?? '', b.message, b.contact ?? '', ...(b.attachments ?? []).map((a) => a.name)].join('\n').toLowerCase();
  return { json, body: b, failure: null, excerpt: excerptOf(b), haystack };
}
