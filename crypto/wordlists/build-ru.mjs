#!/usr/bin/env node
/**
 * Reproducible generator for crypto/wordlists/ru.ts (Russian passphrase words).
 *
 * Usage (plain Node >= 20, no project dependencies):
 *   node crypto/wordlists/build-ru.mjs [SRC_DIR] > crypto/wordlists/ru.ts
 *
 * SRC_DIR (default /tmp/haven-ru-src) must contain the unpacked inputs below.
 * They are NOT committed; fetch them with the ordinary clients:
 *
 *   mkdir -p /tmp/haven-ru-src && cd /tmp/haven-ru-src
 *   npm pack dictionary-ru@3.0.0 az@0.2.3
 *   mkdir dictionary-ru az && tar xzf dictionary-ru-3.0.0.tgz -C dictionary-ru && tar xzf az-0.2.3.tgz -C az
 *   apt-get update && apt-get download mueller7-dict=2002.02.27-13 fortunes-ru=1.52-3.1
 *   dpkg-deb -x mueller7-dict_*.deb deb && dpkg-deb -x fortunes-ru_*.deb deb
 *
 * Inputs and their roles:
 *   1. dictionary-ru@3.0.0 (npm) package/index.dic: the LibreOffice ru_RU Hunspell
 *      dictionary by Alexander I. Lebedev (BSD-style licence, see README.md).
 *      MEMBERSHIP: every output word is a lower-case headword of this dictionary.
 *   2. az@0.2.3 (npm, MIT; bundles the OpenCorpora-based pymorphy2 dictionary):
 *      used only as a part-of-speech FILTER (noun, singular, nominative, lemma form,
 *      not a proper name / abbreviation / slang / obscene / archaic form), and to
 *      lemmatise corpus tokens for counting.
 *   3. Debian mueller7-dict 2002.02.27-13 (usr/share/dictd/mueller7.dict.dz, Mueller
 *      English-Russian dictionary, GPL-2+) and Debian fortunes-ru 1.52-3.1
 *      (usr/share/games/fortunes/ru/*, GPL-2): used only to COUNT how often each noun
 *      lemma occurs (a commonness ranking). No text from them is copied to the output.
 *
 * Filters, in order:
 *   - lower-case Cyrillic tokens only (capitalised tokens are usually names); tokens
 *     followed by "." are skipped (dictionary abbreviations such as "мед.", "бот.");
 *   - ё replaced by е everywhere;
 *   - candidate = lemma of a noun token; kept only if it is 3..8 letters of [а-я],
 *     is a lower-case Hunspell headword, and its first az parse is NOUN sing nomn whose
 *     normal form is the word itself, without tags Name Surn Patr Geox Orgn Trad Abbr
 *     Infr Obsc Slng Arch Erro Dist Init Fixd Litr;
 *   - blocklist from crypto/wordlists/blocklist.ts (RU_BLOCKLIST_WORDS exact,
 *     RU_BLOCKLIST_STEMS prefix), read here as text;
 *   - ranked by score = sqrt(a*b) + (a+b)/10, a and b being occurrences per million
 *     tokens in Mueller and in fortunes-ru (favours words common in both); ties by word;
 *   - the top COUNT words are emitted in code-unit order.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const COUNT = 4096;
const SRC = process.argv[2] ?? '/tmp/haven-ru-src';
const HERE = dirname(fileURLToPath(import.meta.url));

// --- blocklist (source of truth: blocklist.ts) ---
const blSrc = readFileSync(join(HERE, 'blocklist.ts'), 'utf8');
function arrayLiteral(name) {
  const m = blSrc.match(new RegExp(`export const ${name}: readonly string\\[\\] = \\[([\\s\\S]*?)\\];`));
  if (!m) throw new Error(`blocklist.ts: ${name} not found`);
  const body = m[1].replace(/\/\/.*$/gm, '');
  return [...body.matchAll(/'([^']+)'/g)].map((x) => x[1]);
}
const BL_WORDS = new Set(arrayLiteral('RU_BLOCKLIST_WORDS'));
const BL_STEMS = arrayLiteral('RU_BLOCKLIST_STEMS');
const blocked = (w) => BL_WORDS.has(w) || BL_STEMS.some((s) => w.startsWith(s));

// --- Hunspell headwords ---
const dic = readFileSync(join(SRC, 'dictionary-ru/package/index.dic'), 'utf8').split('\n').slice(1);
const hunspell = new Set();
for (const line of dic) {
  const w = line.split('/')[0].trim();
  if (/^[а-яё]+$/.test(w)) hunspell.add(w.replace(/ё/g, 'е'));
}

// --- az / OpenCorpora morphology ---
const require = createRequire(import.meta.url);
const Az = require(join(SRC, 'az/package/dist/az.js'));
await new Promise((res, rej) => Az.Morph.init(join(SRC, 'az/package/dicts'), (e) => (e ? rej(e) : res())));

const lemmaCache = new Map();
function nounLemma(tok) {
  if (lemmaCache.has(tok)) return lemmaCache.get(tok);
  const ps = Az.Morph(tok);
  const r = ps.length && ps[0].tag.NOUN ? ps[0].normalize().word.replace(/ё/g, 'е') : null;
  lemmaCache.set(tok, r);
  return r;
}

function countLemmas(text) {
  const counts = new Map();
  let n = 0;
  for (const m of text.matchAll(/([А-Яа-яЁё]+)(\.?)/gu)) {
    n++;
    const w = m[1];
    if (m[2] || w !== w.toLowerCase()) continue;
    const l = nounLemma(w.replace(/ё/g, 'е'));
    if (l) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return { counts, n };
}

const mueller = gunzipSync(readFileSync(join(SRC, 'deb/usr/share/dictd/mueller7.dict.dz'))).toString('utf8');
const fortDir = join(SRC, 'deb/usr/share/games/fortunes/ru');
const fortunes = readdirSync(fortDir)
  .filter((f) => !f.endsWith('.dat') && statSync(join(fortDir, f)).isFile())
  .sort()
  .map((f) => readFileSync(join(fortDir, f), 'utf8'))
  .join('\n');
const A = countLemmas(mueller);
const B = countLemmas(fortunes);

const BAD_TAGS = /Name|Surn|Patr|Geox|Orgn|Trad|Abbr|Infr|Obsc|Slng|Arch|Erro|Dist|Init|Fixd|Litr/;
const ranked = [];
for (const w of new Set([...A.counts.keys(), ...B.counts.keys()])) {
  if (!/^[а-я]{3,8}$/.test(w) || !hunspell.has(w) || blocked(w)) continue;
  const p = Az.Morph(w)[0];
  if (!p || !(p.tag.NOUN && p.tag.sing && p.tag.nomn) || BAD_TAGS.test(p.tag.toString())) continue;
  if (p.normalize().word.replace(/ё/g, 'е') !== w) continue;
  const a = ((A.counts.get(w) ?? 0) / A.n) * 1e6;
  const b = ((B.counts.get(w) ?? 0) / B.n) * 1e6;
  ranked.push([w, Math.sqrt(a * b) + (a + b) / 10]);
}
ranked.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
if (ranked.length < COUNT) throw new Error(`only ${ranked.length} candidates`);
const words = ranked.slice(0, COUNT).map((x) => x[0]).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

const lines = [];
for (let i = 0; i < words.length; i += 10) lines.push('  ' + words.slice(i, i + 10).map((w) => `'${w}'`).join(', ') + ',');
process.stdout.write(`// GENERATED by crypto/wordlists/build-ru.mjs — do not edit by hand; see README.md.
// ${COUNT} Russian nouns (nominative singular, 3-8 letters, no ё), a subset of the
// LibreOffice ru_RU Hunspell dictionary (c) 1997-2008 Alexander I. Lebedev (BSD-style licence),
// ranked by commonness in the Mueller English-Russian dictionary and fortunes-ru.
export const WORDS: readonly string[] = [
${lines.join('\n')}
];
`);
process.stderr.write(`candidates=${ranked.length} emitted=${words.length} cutoffScore=${ranked[COUNT - 1][1].toFixed(3)}\n`);
