/**
 * The stripper against images built byte by byte (./image-metadata.fixtures.ts) that carry
 * every kind of metadata with a string we can search for. Structure and CRCs are checked
 * with Node's zlib, independently of both the module and the fixtures. The Chromium check
 * (JIT and WebAssembly off, stripped images decode) is tests/image-metadata-browser.test.ts.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COM,
  DHT_AC,
  DHT_DC,
  DQT,
  EOI,
  IDAT,
  IEND,
  IHDR,
  JFIF_NO_THUMB,
  JPEG_CLEAN,
  JPEG_SECRETS,
  JPEG_WITH_METADATA,
  PNG_CLEAN,
  PNG_SECRETS,
  PNG_SIG,
  PNG_WITH_METADATA,
  SCAN,
  SOF0,
  SOI,
  SOS,
  SRGB,
  XMP_APP1,
  ascii,
  cat,
  chunk,
  seg,
  u16,
  u32,
} from './image-metadata.fixtures.ts';
import {
  ImageMetadataError,
  detectImageType,
  stripImageMetadata,
  type StrippableImageType,
} from './image-metadata.ts';

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Walks the output independently: SOI first, EOI last, lengths consistent; returns the markers. */
function jpegMarkers(bytes: Uint8Array): number[] {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  const markers = [0xd8];
  let pos = 2;
  for (;;) {
    expect(bytes[pos]).toBe(0xff);
    const marker = bytes[pos + 1]!;
    markers.push(marker);
    if (marker === 0xd9) {
      expect(pos + 2).toBe(bytes.length);
      return markers;
    }
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    expect(length).toBeGreaterThanOrEqual(2);
    pos += 2 + length;
    expect(pos).toBeLessThanOrEqual(bytes.length);
    if (marker === 0xda) {
      while (!(bytes[pos] === 0xff && bytes[pos + 1] !== 0x00 && !(bytes[pos + 1]! >= 0xd0 && bytes[pos + 1]! <= 0xd7))) {
        pos += bytes[pos] === 0xff ? 2 : 1;
        expect(pos).toBeLessThan(bytes.length);
      }
    }
  }
}

/** Walks the output independently: signature, IHDR first, IEND last, every CRC valid; returns the types. */
function pngTypes(bytes: Uint8Array): string[] {
  expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(PNG_SIG));
  const types: string[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + pos).getUint32(0);
    const end = pos + 12 + length;
    expect(end).toBeLessThanOrEqual(bytes.length);
    const body = bytes.subarray(pos + 4, end - 4);
    expect(new DataView(bytes.buffer, bytes.byteOffset + end - 4).getUint32(0)).toBe(zlib.crc32(body));
    types.push(String.fromCharCode(...body.subarray(0, 4)));
    pos = end;
  }
  expect(types[0]).toBe('IHDR');
  expect(types.at(-1)).toBe('IEND');
  return types;
}

function expectRefused(bytes: Uint8Array, type: StrippableImageType, code = 'malformed_image') {
  let caught: unknown;
  try {
    stripImageMetadata(bytes, type);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ImageMetadataError);
  expect((caught as ImageMetadataError).code).toBe(code);
}

describe('[image metadata] JPEG', () => {
  it('removes Exif with GPS and maker note, XMP, ICC, IPTC, comments, the JFIF thumbnail and trailing data', () => {
    for (const secret of JPEG_SECRETS) expect(contains(JPEG_WITH_METADATA, secret)).toBe(true);
    const out = stripImageMetadata(JPEG_WITH_METADATA, 'image/jpeg');
    for (const secret of JPEG_SECRETS) expect(contains(out, secret), new TextDecoder().decode(secret)).toBe(false);
    expect(jpegMarkers(out)).toEqual([0xd8, 0xe0, 0xee, 0xdb, 0xc0, 0xc4, 0xc4, 0xda, 0xd9]);
    // Exactly the decoding segments, byte for byte, and JFIF without its thumbnail.
    expect(out).toEqual(JPEG_CLEAN);
  });

  it('is idempotent, and an image with nothing to strip comes back byte-identical', () => {
    const once = stripImageMetadata(JPEG_WITH_METADATA, 'image/jpeg');
    expect(stripImageMetadata(once, 'image/jpeg')).toEqual(once);
    expect(stripImageMetadata(JPEG_CLEAN, 'image/jpeg')).toEqual(JPEG_CLEAN);
  });

  it('keeps multi-scan (progressive) data with restart markers and stuffed bytes, dropping metadata between scans', () => {
    const scan1 = Uint8Array.of(0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0x78);
    const scan2 = Uint8Array.of(0x9a, 0xff, 0x00, 0xff, 0x00, 0xbc);
    const dri = seg(0xdd, u16(1));
    const input = cat(SOI, DQT, seg(0xc2, Uint8Array.of(8, 0, 8, 0, 8, 1, 1, 0x11, 0)), dri, DHT_DC, SOS, scan1, COM, XMP_APP1, DHT_AC, SOS, scan2, Uint8Array.of(0xff, 0xff), EOI);
    const out = stripImageMetadata(input, 'image/jpeg');
    expect(out).toEqual(cat(SOI, DQT, seg(0xc2, Uint8Array.of(8, 0, 8, 0, 8, 1, 1, 0x11, 0)), dri, DHT_DC, SOS, scan1, DHT_AC, SOS, scan2, EOI));
    expect(jpegMarkers(out)).toEqual([0xd8, 0xdb, 0xc2, 0xdd, 0xc4, 0xda, 0xc4, 0xda, 0xd9]);
  });

  it('drops fill bytes between segments and non-JFIF APP0 (JFXX thumbnail)', () => {
    const jfxx = seg(0xe0, cat(ascii('JFXX\0'), Uint8Array.of(0x10), ascii('JFXX-THUMB-SECRET')));
    const input = cat(SOI, Uint8Array.of(0xff, 0xff), JFIF_NO_THUMB, jfxx, DQT, SOF0, DHT_DC, DHT_AC, SOS, SCAN, EOI);
    const out = stripImageMetadata(input, 'image/jpeg');
    expect(contains(out, ascii('JFXX-THUMB-SECRET'))).toBe(false);
    expect(out).toEqual(cat(SOI, JFIF_NO_THUMB, DQT, SOF0, DHT_DC, DHT_AC, SOS, SCAN, EOI));
  });

  it('refuses malformed files with the typed error', () => {
    expectRefused(new Uint8Array(0), 'image/jpeg'); // empty
    expectRefused(JPEG_CLEAN.subarray(2), 'image/jpeg'); // no SOI
    expectRefused(cat(SOI, Uint8Array.of(0xff, 0xe1, 0x10, 0x00), ascii('short')), 'image/jpeg'); // length past the end
    expectRefused(cat(SOI, Uint8Array.of(0xff, 0xe1, 0x00, 0x01)), 'image/jpeg'); // length below 2
    expectRefused(cat(SOI, Uint8Array.of(0x12, 0x34), JPEG_CLEAN.subarray(2)), 'image/jpeg'); // not a marker
    expectRefused(cat(SOI, Uint8Array.of(0xff, 0x00), JPEG_CLEAN.subarray(2)), 'image/jpeg'); // 0xFF00 outside a scan
    expectRefused(cat(SOI, Uint8Array.of(0xff, 0xd0), JPEG_CLEAN.subarray(2)), 'image/jpeg'); // RST outside a scan
    expectRefused(cat(SOI, SOI, JPEG_CLEAN.subarray(2)), 'image/jpeg'); // second SOI
    expectRefused(JPEG_CLEAN.subarray(0, JPEG_CLEAN.length - 2), 'image/jpeg'); // no EOI
    expectRefused(JPEG_CLEAN.subarray(0, JPEG_CLEAN.length - 1), 'image/jpeg'); // EOI cut in half
    expectRefused(cat(SOI, DQT, DHT_DC, SOS, SCAN, EOI), 'image/jpeg'); // scan without frame
    expectRefused(cat(SOI, DQT, SOF0, EOI), 'image/jpeg'); // no scan
    expectRefused(PNG_CLEAN, 'image/jpeg'); // a PNG claimed to be a JPEG
  });
});

describe('[image metadata] PNG', () => {
  it('removes eXIf with GPS and maker note, tEXt, iTXt (XMP), zTXt, iCCP, pHYs, tIME, private chunks and trailing data', () => {
    for (const secret of PNG_SECRETS) expect(contains(PNG_WITH_METADATA, secret)).toBe(true);
    const out = stripImageMetadata(PNG_WITH_METADATA, 'image/png');
    for (const secret of PNG_SECRETS) expect(contains(out, secret), new TextDecoder().decode(secret)).toBe(false);
    expect(pngTypes(out)).toEqual(['IHDR', 'sRGB', 'gAMA', 'tRNS', 'IDAT', 'IEND']);
    expect(out).toEqual(PNG_CLEAN);
  });

  it('is idempotent, and an image with nothing to strip comes back byte-identical', () => {
    const once = stripImageMetadata(PNG_WITH_METADATA, 'image/png');
    expect(stripImageMetadata(once, 'image/png')).toEqual(once);
    expect(stripImageMetadata(PNG_CLEAN, 'image/png')).toEqual(PNG_CLEAN);
  });

  it('keeps a palette and several IDAT chunks in order', () => {
    const header = chunk('IHDR', cat(u32(2), u32(1), Uint8Array.of(8, 3, 0, 0, 0)));
    const plte = chunk('PLTE', Uint8Array.of(0, 0, 0, 255, 255, 255));
    const data = new Uint8Array(zlib.deflateSync(Uint8Array.of(0, 0, 1)));
    const idat1 = chunk('IDAT', data.subarray(0, 3));
    const idat2 = chunk('IDAT', data.subarray(3));
    const input = cat(PNG_SIG, header, chunk('tEXt', ascii('a\0b')), plte, idat1, chunk('tEXt', ascii('c\0d')), idat2, IEND);
    expect(stripImageMetadata(input, 'image/png')).toEqual(cat(PNG_SIG, header, plte, idat1, idat2, IEND));
  });

  it('refuses malformed files with the typed error', () => {
    expectRefused(new Uint8Array(0), 'image/png'); // empty
    expectRefused(cat(Uint8Array.of(0x88), PNG_CLEAN.subarray(1)), 'image/png'); // bad signature
    expectRefused(cat(PNG_SIG, u32(1000), ascii('IHDR'), new Uint8Array(20)), 'image/png'); // length past the end
    expectRefused(cat(PNG_SIG, u32(0x80000000), ascii('IHDR')), 'image/png'); // length above 2^31-1
    expectRefused(cat(PNG_SIG, SRGB, IHDR, IDAT, IEND), 'image/png'); // IHDR not first
    expectRefused(cat(PNG_SIG, IHDR, IDAT, IHDR, IEND), 'image/png'); // second IHDR
    expectRefused(cat(PNG_SIG, IHDR, IDAT), 'image/png'); // no IEND
    expectRefused(cat(PNG_SIG, IHDR, IDAT, IEND.subarray(0, 11)), 'image/png'); // IEND cut
    expectRefused(cat(PNG_SIG, IHDR, IEND), 'image/png'); // no IDAT
    expectRefused(cat(PNG_SIG, IHDR, chunk('tE1t', ascii('x')), IDAT, IEND), 'image/png'); // type not letters
    const badCrc = IDAT.slice();
    badCrc[badCrc.length - 1]! ^= 1;
    expectRefused(cat(PNG_SIG, IHDR, badCrc, IEND), 'image/png'); // bad CRC in a kept chunk
    expectRefused(cat(PNG_SIG, IHDR, chunk('ABCD', ascii('x')), IDAT, IEND), 'image/png', 'unsupported_image');
    expectRefused(JPEG_CLEAN, 'image/png'); // a JPEG claimed to be a PNG
  });

  it('ignores a bad CRC in a chunk it drops anyway', () => {
    const text = chunk('tEXt', ascii('k\0v'));
    text[text.length - 1]! ^= 1;
    expect(stripImageMetadata(cat(PNG_SIG, IHDR, text, IDAT, IEND), 'image/png')).toEqual(cat(PNG_SIG, IHDR, IDAT, IEND));
  });
});

describe('[image metadata] type detection', () => {
  it('reads the magic bytes, nothing else', () => {
    expect(detectImageType(JPEG_WITH_METADATA)).toBe('image/jpeg');
    expect(detectImageType(PNG_WITH_METADATA)).toBe('image/png');
    expect(detectImageType(ascii('GIF89a....'))).toBeNull();
    expect(detectImageType(new Uint8Array(0))).toBeNull();
    expect(detectImageType(SOI)).toBeNull();
    expect(detectImageType(PNG_SIG.subarray(0, 7))).toBeNull();
  });
});

/** Either a stripped image that is stable and no longer than the input, or the typed error. */
function returnsOrRefuses(bytes: Uint8Array, type: StrippableImageType): void {
  let out: Uint8Array;
  try {
    out = stripImageMetadata(bytes, type);
  } catch (e) {
    if (!(e instanceof ImageMetadataError)) throw e;
    expect(['malformed_image', 'unsupported_image']).toContain(e.code);
    return;
  }
  expect(out.length).toBeLessThanOrEqual(bytes.length);
  expect(detectImageType(out)).toBe(type);
  expect(stripImageMetadata(out, type)).toEqual(out);
}

const TYPES: StrippableImageType[] = ['image/jpeg', 'image/png'];

describe('[image metadata] worst-case shapes', () => {
  // The walk is one linear pass; these are the shapes that would be slow if it were not
  // (a quadratic rescan or per-byte copying). The test timeout is the bound; no timing here.
  it('megabytes of fill bytes, stuffed scan bytes and restart markers, and 80 000 empty chunks all finish', () => {
    const fill = new Uint8Array(1 << 20).fill(0xff);
    const stuffed = new Uint8Array(1 << 20);
    for (let i = 0; i < stuffed.length; i += 4) stuffed.set([0xff, 0x00, 0xff, 0xd0 + ((i >> 2) & 7)], i);
    const jpeg = cat(SOI, fill, DQT.subarray(1), SOF0, DHT_DC, DHT_AC, SOS, SCAN, stuffed, EOI);
    expect(stripImageMetadata(jpeg, 'image/jpeg')).toEqual(cat(SOI, DQT, SOF0, DHT_DC, DHT_AC, SOS, SCAN, stuffed, EOI));
    const empty = chunk('zzZz', new Uint8Array(0));
    const many = new Uint8Array(empty.length * 80_000);
    for (let i = 0; i < 80_000; i++) many.set(empty, i * empty.length);
    const png = cat(PNG_SIG, IHDR, many, IDAT, IEND);
    expect(stripImageMetadata(png, 'image/png')).toEqual(cat(PNG_SIG, IHDR, IDAT, IEND));
  });
});

describe('[image metadata] hostile input', () => {
  it('random bytes (also behind a valid signature) return or throw the typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom(...TYPES), fc.boolean(), (random, type, signed) => {
        const bytes = signed ? cat(type === 'image/jpeg' ? SOI : PNG_SIG, random) : random;
        returnsOrRefuses(bytes, type);
      }),
      { numRuns: 1000 },
    );
  });

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
  function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
    const at = m.at % (bytes.length + 1);
    switch (m.kind) {
      case 'truncate':
        return bytes.slice(0, at);
      case 'flip': {
        const copy = bytes.slice();
        if (at < copy.length) copy[at]! ^= m.mask;
        return copy;
      }
      case 'insert':
        return cat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
      case 'delete':
        return cat(bytes.subarray(0, at), bytes.subarray(at + m.count));
    }
  }

  for (const [name, image, type] of [
    ['JPEG with metadata', JPEG_WITH_METADATA, 'image/jpeg'],
    ['clean JPEG', JPEG_CLEAN, 'image/jpeg'],
    ['PNG with metadata', PNG_WITH_METADATA, 'image/png'],
    ['clean PNG', PNG_CLEAN, 'image/png'],
  ] as const) {
    it(`mutations of the ${name} (truncation, flips, insertions, deletions) return or throw the typed error`, () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
          returnsOrRefuses(mutations.reduce(mutate, image), type);
        }),
        { numRuns: 1000 },
      );
    });
  }
});

