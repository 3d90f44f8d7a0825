import { describe, expect, it } from 'vitest';
import { isSameSitePost, type SameSiteHeaders } from './same-site.ts';

const ONION = 'http://' + 'a'.repeat(56) + '.onion';
const h = (over: Partial<SameSiteHeaders>): SameSiteHeaders => ({ secFetchSite: undefined, origin: undefined, referer: undefined, host: 'help.example', ...over });

describe('isSameSitePost', () => {
  it('trusts fetch metadata first: same-origin and none pass, same-site and cross-site do not, whatever Origin says', () => {
    expect(isSameSitePost(h({ secFetchSite: 'same-origin', origin: 'null' }), null)).toBe(true);
    expect(isSameSitePost(h({ secFetchSite: 'none' }), null)).toBe(true);
    expect(isSameSitePost(h({ secFetchSite: 'same-site', origin: 'https://help.example' }), null)).toBe(false);
    expect(isSameSitePost(h({ secFetchSite: 'cross-site', origin: 'https://help.example' }), null)).toBe(false);
    expect(isSameSitePost(h({ secFetchSite: 'something-new' }), null)).toBe(false);
  });

  it('without fetch metadata, compares a real Origin, else the Referer, with the Host or the onion address', () => {
    expect(isSameSitePost(h({ origin: 'https://help.example' }), null)).toBe(true);
    expect(isSameSitePost(h({ origin: 'https://HELP.example' }), null)).toBe(true);
    expect(isSameSitePost(h({ origin: 'https://help.example.evil.example' }), null)).toBe(false);
    expect(isSameSitePost(h({ origin: 'https://help.example:8443' }), null)).toBe(false);
    expect(isSameSitePost(h({ referer: 'https://help.example/plain' }), null)).toBe(true);
    expect(isSameSitePost(h({ origin: 'null', referer: 'https://evil.example/' }), null)).toBe(false);
    expect(isSameSitePost(h({ origin: ONION, host: '127.0.0.1:8080' }), ONION)).toBe(true);
    expect(isSameSitePost(h({ origin: ONION, host: '127.0.0.1:8080' }), null)).toBe(false);
    expect(isSameSitePost(h({ origin: 'file://' }), null)).toBe(false);
    expect(isSameSitePost(h({ origin: 'not a url' }), null)).toBe(false);
  });

  it('allows a POST that carries nothing usable (our no-referrer policy on a browser without fetch metadata)', () => {
    expect(isSameSitePost(h({}), null)).toBe(true);
    expect(isSameSitePost(h({ origin: 'null' }), null)).toBe(true);
  });
});
