/**
 * Test images for web/shared/image-metadata.test.ts and tests/image-metadata-browser.test.ts,
 * built byte by byte so every metadata block a camera or editor writes is present with a
 * string we can search for, and the exact expected output is known. No Node built-in (this
 * folder runs in browsers): CRC-32 and zlib are written out here, the zlib as a "stored"
 * (uncompressed) block, which every inflater accepts.
 */

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
export const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
export const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

/** CRC-32 bit by bit (deliberately not the table form the module under test uses). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zlib stream with one stored deflate block (data under 64 KiB). */
export function zlibStored(data: Uint8Array): Uint8Array {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  const n = data.length;
  return cat(Uint8Array.of(0x78, 0x01, 0x01, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff), data, u32(((b << 16) | a) >>> 0));
}

// --- A big-endian TIFF (Exif) with IFD0 -> Exif IFD (maker note) and IFD0 -> GPS IFD. -----

interface Entry {
  tag: number;
  type: number; // 2 ASCII, 4 LONG, 5 RATIONAL, 7 UNDEFINED
  count: number;
  data: Uint8Array;
}
export const asciiEntry = (tag: number, text: string): Entry => ({ tag, type: 2, count: text.length + 1, data: cat(ascii(text), Uint8Array.of(0)) });
export const rationals = (tag: number, values: [number, number][]): Entry => ({
  tag,
  type: 5,
  count: values.length,
  data: cat(...values.flatMap(([n, d]) => [u32(n), u32(d)])),
});
export const ifdSize = (entries: Entry[]) =>
  2 + 12 * entries.length + 4 + entries.reduce((n, e) => n + (e.data.length > 4 ? e.data.length + (e.data.length & 1) : 0), 0);

export function ifd(entries: Entry[], at: number): Uint8Array {
  const head: Uint8Array[] = [u16(entries.length)];
  const tail: Uint8Array[] = [];
  let dataAt = at + 2 + 12 * entries.length + 4;
  for (const e of entries) {
    head.push(u16(e.tag), u16(e.type), u32(e.count));
    if (e.data.length <= 4) {
      head.push(cat(e.data, new Uint8Array(4 - e.data.length)));
    } else {
      head.push(u32(dataAt));
      const padded = cat(e.data, new Uint8Array(e.data.length & 1));
      tail.push(padded);
      dataAt += padded.length;
    }
  }
  return cat(...head, u32(0), ...tail);
}

export const GPS_LATITUDE = rationals(2, [[52, 1], [31, 1], [123456, 10000]]).data;
export const GPS_LONGITUDE = rationals(4, [[13, 1], [24, 1], [987654, 10000]]).data;

export function tiffWithGps(): Uint8Array {
  const gps = [
    asciiEntry(1, 'N'),
    rationals(2, [[52, 1], [31, 1], [123456, 10000]]),
    asciiEntry(3, 'E'),
    rationals(4, [[13, 1], [24, 1], [987654, 10000]]),
  ];
  const makerNote = ascii('MAKERNOTE-SERIAL-SECRET');
  const exif: Entry[] = [{ tag: 0x927c, type: 7, count: makerNote.length, data: makerNote }];
  const ifd0Fixed = [asciiEntry(0x010f, 'HavenCam-MAKE-SECRET')];
  const ifd0Size = ifdSize([...ifd0Fixed, { tag: 0, type: 4, count: 1, data: u32(0) }, { tag: 0, type: 4, count: 1, data: u32(0) }]);
  const exifAt = 8 + ifd0Size;
  const gpsAt = exifAt + ifdSize(exif);
  const ifd0 = [
    ...ifd0Fixed,
    { tag: 0x8769, type: 4, count: 1, data: u32(exifAt) },
    { tag: 0x8825, type: 4, count: 1, data: u32(gpsAt) },
  ];
  return cat(ascii('MM'), u16(42), u32(8), ifd(ifd0, 8), ifd(exif, exifAt), ifd(gps, gpsAt));
}

// --- JPEG ---------------------------------------------------------------------------------

export const seg = (marker: number, payload: Uint8Array) => cat(Uint8Array.of(0xff, marker), u16(payload.length + 2), payload);
export const SOI = Uint8Array.of(0xff, 0xd8);
export const EOI = Uint8Array.of(0xff, 0xd9);

export const JFIF_NO_THUMB = seg(0xe0, cat(ascii('JFIF\0'), Uint8Array.of(1, 1, 1, 0, 72, 0, 72, 0, 0)));
export const JFIF_WITH_THUMB = seg(0xe0, cat(ascii('JFIF\0'), Uint8Array.of(1, 1, 1, 0, 72, 0, 72, 1, 1), ascii('TMB')));
export const DQT = seg(0xdb, cat(Uint8Array.of(0), new Uint8Array(64).fill(1)));
// 8x8, one 8-bit grey component.
export const SOF0 = seg(0xc0, Uint8Array.of(8, 0, 8, 0, 8, 1, 1, 0x11, 0));
// One code of length 1 each: DC category 0, AC end-of-block.
export const DHT_DC = seg(0xc4, cat(Uint8Array.of(0x00, 1), new Uint8Array(15), Uint8Array.of(0)));
export const DHT_AC = seg(0xc4, cat(Uint8Array.of(0x10, 1), new Uint8Array(15), Uint8Array.of(0)));
export const SOS = seg(0xda, Uint8Array.of(1, 1, 0x00, 0, 63, 0));
// One block: DC '0', EOB '0', padded with ones.
export const SCAN = Uint8Array.of(0x3f);
export const ADOBE_12 = seg(0xee, cat(ascii('Adobe'), Uint8Array.of(0, 100, 0, 0, 0, 0, 1)));

export const EXIF_APP1 = seg(0xe1, cat(ascii('Exif\0\0'), tiffWithGps()));
export const XMP_APP1 = seg(
  0xe1,
  cat(ascii('http://ns.adobe.com/xap/1.0/\0'), ascii('<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>XMP-CREATOR-SECRET</dc:creator></x:xmpmeta>')),
);
export const ICC_APP2 = seg(0xe2, cat(ascii('ICC_PROFILE\0'), Uint8Array.of(1, 1), ascii('ICC-DEVICE-SECRET')));
export const IPTC_APP13 = seg(0xed, cat(ascii('Photoshop 3.0\0'), ascii('8BIM'), ascii('IPTC-SECRET')));
export const ADOBE_LONG = seg(0xee, cat(ascii('Adobe'), Uint8Array.of(0, 100, 0, 0, 0, 0, 1), ascii('ADOBE-LONG-SECRET')));
export const COM = seg(0xfe, ascii('COMMENT-SECRET'));
export const TRAILER = cat(ascii('TRAILING-SECRET'), SOI, ascii('SECOND-IMAGE'), EOI);

export const JPEG_SECRETS = [
  GPS_LATITUDE,
  GPS_LONGITUDE,
  ascii('MAKERNOTE-SERIAL-SECRET'),
  ascii('HavenCam-MAKE-SECRET'),
  ascii('XMP-CREATOR-SECRET'),
  ascii('Exif\0\0'),
  ascii('ICC-DEVICE-SECRET'),
  ascii('IPTC-SECRET'),
  ascii('ADOBE-LONG-SECRET'),
  ascii('COMMENT-SECRET'),
  ascii('TRAILING-SECRET'),
  ascii('SECOND-IMAGE'),
  ascii('TMB'),
];

export const JPEG_WITH_METADATA = cat(
  SOI,
  JFIF_WITH_THUMB,
  EXIF_APP1,
  XMP_APP1,
  ICC_APP2,
  IPTC_APP13,
  ADOBE_LONG,
  ADOBE_12,
  COM,
  DQT,
  SOF0,
  DHT_DC,
  DHT_AC,
  SOS,
  SCAN,
  EOI,
  TRAILER,
);
export const JPEG_CLEAN = cat(SOI, JFIF_NO_THUMB, ADOBE_12, DQT, SOF0, DHT_DC, DHT_AC, SOS, SCAN, EOI);

// --- PNG ----------------------------------------------------------------------------------

export const PNG_SIG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
export const chunk = (type: string, data: Uint8Array) => {
  const body = cat(ascii(type), data);
  return cat(u32(data.length), body, u32(crc32(body)));
};
export const IHDR = chunk('IHDR', cat(u32(2), u32(2), Uint8Array.of(8, 2, 0, 0, 0)));
export const IDAT = chunk('IDAT', zlibStored(Uint8Array.of(0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255)));
export const IEND = chunk('IEND', new Uint8Array(0));
export const SRGB = chunk('sRGB', Uint8Array.of(0));
export const GAMA = chunk('gAMA', u32(45455));
export const TRNS = chunk('tRNS', Uint8Array.of(0, 255, 0, 255, 0, 255));

export const ZTXT_COMPRESSED = zlibStored(ascii('ZTXT-SECRET ZTXT-SECRET ZTXT-SECRET'));
export const ICC_COMPRESSED = zlibStored(ascii('ICC-DEVICE-SECRET profile body'));
export const PNG_METADATA_CHUNKS_BEFORE = [
  chunk('tEXt', ascii('Author\0TEXT-SECRET')),
  chunk('iTXt', cat(ascii('XML:com.adobe.xmp\0'), Uint8Array.of(0, 0, 0, 0), ascii('<x:xmpmeta>ITXT-XMP-SECRET</x:xmpmeta>'))),
  chunk('zTXt', cat(ascii('Comment\0'), Uint8Array.of(0), ZTXT_COMPRESSED)),
  chunk('eXIf', tiffWithGps()),
  chunk('iCCP', cat(ascii('ICC-NAME-SECRET\0'), Uint8Array.of(0), ICC_COMPRESSED)),
  chunk('pHYs', cat(u32(2835), u32(2835), Uint8Array.of(1))),
  chunk('tIME', Uint8Array.of(0x07, 0xea, 11, 30, 14, 5, 9)),
  chunk('prVt', ascii('PRIVATE-SECRET')),
];
export const PNG_SECRETS = [
  GPS_LATITUDE,
  GPS_LONGITUDE,
  ascii('MAKERNOTE-SERIAL-SECRET'),
  ascii('HavenCam-MAKE-SECRET'),
  ascii('TEXT-SECRET'),
  ascii('ITXT-XMP-SECRET'),
  ZTXT_COMPRESSED,
  ICC_COMPRESSED,
  ascii('ICC-NAME-SECRET'),
  ascii('PRIVATE-SECRET'),
  ascii('AFTER-IDAT-SECRET'),
  ascii('TRAILING-SECRET'),
  ascii('tIME'),
  ascii('pHYs'),
];
export const PNG_WITH_METADATA = cat(
  PNG_SIG,
  IHDR,
  ...PNG_METADATA_CHUNKS_BEFORE,
  SRGB,
  GAMA,
  TRNS,
  IDAT,
  chunk('tEXt', ascii('Comment\0AFTER-IDAT-SECRET')),
  IEND,
  ascii('TRAILING-SECRET'),
);
export const PNG_CLEAN = cat(PNG_SIG, IHDR, SRGB, GAMA, TRNS, IDAT, IEND);

