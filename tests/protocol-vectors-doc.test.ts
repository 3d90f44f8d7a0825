/**
 * Part III of docs/PROTOCOL.md (version 2) explains each object with a worked example taken
 * from a checked-in known-answer vector. This test keeps those citations from rotting when a
 * vector file is regenerated or renamed:
 *
 * - every citation written `v2.json#<json path>` names a value that exists in
 *   tests/vectors/v2.json, and every vector of that file (each top-level entry and each
 *   message) is cited at least once;
 * - every hex string quoted in the byte breakdowns of 26.2 to 26.5 occurs in v2.json, and
 *   those of 26.6 in the site manifest's own vector (crypto/v2/site-manifest.test.ts);
 * - section 26.7 names every vector of tests/vectors/ed25519-edge.json, names no vector that
 *   is not there, and quotes only encodings that occur in that file.
 *
 * Reads files only: no database, no build.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const read = (rel: string) => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8');
const DOC = read('../docs/PROTOCOL.md');
const V2_TEXT = read('vectors/v2.json');
const V2 = JSON.parse(V2_TEXT) as Record<string, unknown>;
const EDGE_TEXT = read('vectors/ed25519-edge.json');
const EDGE = JSON.parse(EDGE_TEXT) as { vectors: { name: string }[] };
const MANIFEST_TEST = read('../crypto/v2/site-manifest.test.ts');

/** The text of `### 26.N ...` up to the next `### ` heading. */
function section(n: string): string {
  const start = DOC.indexOf(`\n### ${n} `);
  expect(start, `docs/PROTOCOL.md has a section ${n}`).toBeGreaterThan(0);
  const end = DOC.indexOf('\n### ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

function lookup(path: string): unknown {
  let at: unknown = V2;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** Hex runs of at least `min` digits (upper- or lower-case), as quoted in the document. */
function hexRuns(text: string, min: number): string[] {
  return [...text.matchAll(new RegExp(`\\b[0-9a-fA-F]{${min},}\\b`, 'g'))].map((m) => m[0].toLowerCase());
}

const citations = [...DOC.matchAll(/`v2\.json#([A-Za-z0-9_.]+)`/g)].map((m) => m[1]!);

describe('docs/PROTOCOL.md cites tests/vectors/v2.json by names that exist', () => {
  it('cites v2 vectors at all (the citation syntax has not drifted)', () => {
    expect(citations.length).toBeGreaterThanOrEqual(20);
  });

  it('every cited path exists in tests/vectors/v2.json', () => {
    const missing = [...new Set(citations)].filter((path) => lookup(path) === undefined);
    expect(missing, 'cited in docs/PROTOCOL.md but absent from tests/vectors/v2.json').toEqual([]);
  });

  it('every vector in the file is cited at least once', () => {
    const cited = (path: string) => citations.some((c) => c === path || c.startsWith(`${path}.`));
    const vectors = [
      ...Object.keys(V2).filter((k) => k !== 'source' && k !== 'messages'),
      ...Object.keys(V2.messages as object).map((k) => `messages.${k}`),
    ];
    expect(vectors.filter((v) => !cited(v)), 'vectors of tests/vectors/v2.json that Part III never cites').toEqual([]);
  });

  it('quotes in 26.2 to 26.5 only hex that occurs in tests/vectors/v2.json', () => {
    const quoted = ['26.2', '26.3', '26.4', '26.5'].flatMap((n) => hexRuns(section(n), 16));
    expect(quoted.length).toBeGreaterThan(10);
    expect(quoted.filter((hex) => !V2_TEXT.includes(hex))).toEqual([]);
  });

  it('quotes in 26.6 only hex that occurs in the site manifest vector', () => {
    const quoted = hexRuns(section('26.6'), 32);
    expect(quoted.length).toBeGreaterThanOrEqual(5);
    expect(quoted.filter((hex) => !MANIFEST_TEST.includes(hex))).toEqual([]);
  });
});

describe('section 26.7 accounts for tests/vectors/ed25519-edge.json', () => {
  const text = section('26.7');
  const names = EDGE.vectors.map((v) => v.name);

  it('names every edge vector', () => {
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !text.includes(`\`${name}\``))).toEqual([]);
  });

  it('names in its table only vectors that exist', () => {
    const rows = text.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| class') && !line.startsWith('|---'));
    const named = rows.flatMap((row) => [...(row.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    expect(named.length).toBe(names.length);
    expect(named.filter((name) => !names.includes(name))).toEqual([]);
  });

  it('quotes only encodings that occur in the edge vectors', () => {
    const quoted = hexRuns(text, 64);
    expect(quoted.length).toBe(7);
    expect(quoted.filter((hex) => !EDGE_TEXT.includes(hex))).toEqual([]);
  });
});
