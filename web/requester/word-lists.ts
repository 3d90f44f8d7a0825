/**
 * The passphrase word lists, loaded only when a passphrase is about to be made (they are about
 * 40 KB gzipped, two fifths of what the page would otherwise need before it is usable).
 *
 * Each list is a separate hashed asset (web/build.ts). Its `sha384` is compiled into this
 * script, which the page pins with SRI, and the page is pinned by the root-signed site manifest:
 * the browser refuses a list whose bytes differ (fetch `integrity`), so a hostile server cannot
 * slip in a short or chosen word list. The list is still checked as a list before use
 * (generatePassphrase refuses duplicates and words that do not normalise to themselves).
 */
import type { Lang } from '../../crypto/requester-i18n.ts';

declare const __WORD_LISTS__: Record<string, { url: string; integrity: string }>;

const loading = new Map<Lang, Promise<readonly string[]>>();

export class WordListError extends Error {
  override name = 'WordListError';
}

async function fetchList(lang: Lang): Promise<readonly string[]> {
  const asset = __WORD_LISTS__[lang];
  if (!asset) throw new WordListError(`no word list for ${lang}`);
  let res: Response;
  try {
    res = await fetch(asset.url, { integrity: asset.integrity, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
  } catch {
    throw new WordListError('the word list could not be loaded or did not match its hash');
  }
  if (!res.ok) throw new WordListError('the word list could not be loaded');
  const words = (await res.json()) as unknown;
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw new WordListError('the word list is not a list of words');
  return Object.freeze(words as string[]);
}

/**
 * The word list of `lang`; fetched once per page load (kept in memory only, like everything
 * else here), and fetched again after a failure.
 */
export function wordList(lang: Lang): Promise<readonly string[]> {
  let pending = loading.get(lang);
  if (!pending) {
    pending = fetchList(lang);
    loading.set(lang, pending);
    pending.catch(() => loading.delete(lang));
  }
  return pending;
}
