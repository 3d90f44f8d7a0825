/**
 * Removes metadata from a JPEG or PNG in the requester's browser, before the file is
 * encrypted as an attachment (PROTOCOL.md section 10.1). A phone photo's Exif GPS tags
 * name the place it was taken - often the requester's home - and its maker notes, XMP and
 * ICC profile can name the device, its serial number and the software that edited it.
 * Encryption hides all of that from the server, not from the responders or from whoever
 * later seizes a responder's download, so it has to go before encryption.
 *
 * Allow-list, not deny-list: only the segments/chunks a decoder needs to draw the pixels are
 * copied, byte for byte; everything else (including types that do not exist yet) is dropped.
 * The pixel data itself is never decoded or re-encoded, so there is no quality loss and the
 * code stays a single linear pass over the bytes: pure TypeScript with no DOM, no Node
 * built-in and no library, fast enough with WebAssembly and the JIT off (Tor Browser's
 * Safer level). Anything the walk cannot account for is refused with ImageMetadataError;
 * the caller then refuses the file rather than sending it unstripped.
 *
 * What this does NOT do: it trusts that kept segments hold what their type says (a file
 * crafted to hide bytes inside a quantisation table or the compressed pixels keeps them; the
 * aim is the metadata cameras and editors write, not a requester hiding data from
 * themselves), and it cannot remove what is visible in the picture.
 */

export type StrippableImageType = 'image/jpeg' | 'image/png';

export type ImageMetadataErrorCode =
  /** The bytes are not a well-formed image of the claimed type (truncated, corrupt, not an image). */
  | 'malformed_image'
  /** Well-formed but uses a feature this stripper cannot handle safely (an unknown critical PNG chunk). */
  | 'unsupported_image';

export class ImageMetadataError extends Error {
  override name = 'ImageMetadataError';
  readonly code: ImageMetadataErrorCode;
  constructor(code: ImageMetadataErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function malformed(message: string): never {
  throw new ImageMetadataError('malformed_image', message);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/**
 * The image type from the first bytes, or null. The file name and the browser's MIME type
 * are chosen by whoever named the file and are never consulted.
 */
export function detectImageType(bytes: Uint8Array): StrippableImageType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'image/png';
  return null;
}

/**
 * A copy of `bytes` with all metadata removed (see PROTOCOL.md 10.1 for exactly what stays).
 * Idempotent; an image with nothing to remove comes back byte-identical. Always a fresh
 * ArrayBuffer-backed array (ready for a Blob or the encryptor), never a view of the input.
 * @throws ImageMetadataError when the bytes are not a well-formed image of `type`.
 */
export function stripImageMetadata(bytes: Uint8Array, type: StrippableImageType): Uint8Array<ArrayBuffer> {
  if (type === 'image/jpeg') return stripJpeg(bytes);
  if (type === 'image/png') return stripPng(bytes);
  throw new ImageMetadataError('unsupported_image', 'only JPEG and PNG can be stripped');
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function startsWithAscii(bytes: Uint8Array, from: number, text: string): boolean {
  if (from + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// JPEG (ITU-T T.81 Annex B)

/** Marker segments needed to decode: tables, frame headers, restart interval, DNL, hierarchical. */
function isJpegDecodingSegment(marker: number): boolean {
  // SOF0-SOF15 (C0-CF) are frame headers except C4 DHT and CC DAC, which are tables and also
  // kept; C8 (JPG) is reserved for extensions and dropped.
  if (marker >= 0xc0 && marker <= 0xcf) return marker !== 0xc8;
  // DQT, DNL, DRI, DHP, EXP: numbers only.
  return marker === 0xdb || marker === 0xdc || marker === 0xdd || marker === 0xde || marker === 0xdf;
}

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function stripJpeg(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0xd8) malformed('JPEG: no SOI marker');
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  let pos = 2;
  let seenFrame = false;
  let seenScan = false;
  for (;;) {
    if (pos >= bytes.length) malformed('JPEG: no EOI marker');
    if (bytes[pos] !== 0xff) malformed(`JPEG: expected a marker at byte ${pos}`);
    // Any number of 0xFF fill bytes may precede a marker (B.1.1.2); they are not copied.
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) malformed('JPEG: no EOI marker');
    const marker = bytes[pos]!;
    const markerStart = pos - 1;
    pos++;
    if (marker === 0xd9) {
      if (!seenScan) malformed('JPEG: EOI before any scan');
      parts.push(bytes.subarray(markerStart, pos));
      // Anything after EOI is dropped: phones and editors append second images, thumbnails
      // and depth maps there, and decoders never look at it.
      return concat(parts);
    }
    if (marker === 0x01) continue; // TEM: standalone, meaningless in a file, dropped.
    if (marker === 0x00 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      malformed(`JPEG: 0xFF${marker.toString(16).padStart(2, '0')} is not a marker here (byte ${markerStart})`);
    }
    if (pos + 2 > bytes.length) malformed('JPEG: segment length past the end');
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    if (length < 2) malformed(`JPEG: segment length ${length} below 2`);
    const end = pos + length;
    if (end > bytes.length) malformed('JPEG: segment length past the end');
    pos = end;

    if (marker === 0xda) {
      if (!seenFrame) malformed('JPEG: scan before any frame header');
      seenScan = true;
      // The entropy-coded data runs to the next 0xFF that is neither 0xFF00 (a stuffed
      // data byte) nor an RST0-RST7 marker (restart intervals live inside the scan).
      let scan = pos;
      for (;;) {
        if (scan >= bytes.length) malformed('JPEG: no EOI marker');
        if (bytes[scan] !== 0xff) {
          scan++;
          continue;
        }
        const next = bytes[scan + 1];
        if (next === undefined) malformed('JPEG: no EOI marker');
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
          scan += 2;
          continue;
        }
        break;
      }
      parts.push(bytes.subarray(markerStart, scan));
      pos = scan;
      continue;
    }
    if (isJpegDecodingSegment(marker)) {
      if (isSof(marker)) seenFrame = true;
      parts.push(bytes.subarray(markerStart, end));
      continue;
    }
    if (marker === 0xe0 && length >= 16 && startsWithAscii(bytes, markerStart + 4, 'JFIF\0')) {
      // JFIF: version, density units and density are kept (harmless, and some decoders read
      // the density); the embedded thumbnail is cut, because a thumbnail can show the
      // picture as it was before cropping. Rewritten as the 16-byte form with 0x0 thumbnail.
      const jfif = bytes.slice(markerStart, markerStart + 18);
      jfif[2] = 0x00;
      jfif[3] = 0x10;
      jfif[16] = 0x00;
      jfif[17] = 0x00;
      parts.push(jfif);
      continue;
    }
    if (marker === 0xee && length === 14 && startsWithAscii(bytes, markerStart + 4, 'Adobe')) {
      // Adobe APP14 of exactly 12 bytes (version, two flag words, transform) says whether a
      // 3- or 4-component image is YCbCr/YCCK or RGB/CMYK; without it, CMYK photos from
      // Photoshop decode with wrong colours. It holds no text. Longer APP14s are dropped.
      parts.push(bytes.subarray(markerStart, end));
      continue;
    }
    // Everything else is dropped: APP0 other than JFIF (JFXX thumbnails), APP1 (Exif with
    // GPS and maker notes, XMP), APP2 (ICC profile, FlashPix, MPF), APP3-APP15 (APP13
    // Photoshop/IPTC, other APP14s, vendor blocks), COM comments, JPG0-JPG13 and C8.
  }
}

// ---------------------------------------------------------------------------------------------
// PNG (ISO/IEC 15948, W3C PNG 3rd edition)

/**
 * Ancillary chunks that change how the pixels are drawn and carry no text: transparency,
 * gamma, chromaticities, the sRGB flag and cICP (four enumerated numbers). iCCP is dropped
 * for the same reason as JPEG's ICC profile (it can carry the device/vendor's name and
 * model); pHYs (pixel density) is dropped because browsers draw by pixel count.
 */
const PNG_KEPT_ANCILLARY = new Set(['tRNS', 'gAMA', 'cHRM', 'sRGB', 'cICP']);
const PNG_CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array, from: number, to: number): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function isAsciiLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function stripPng(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.length < 8 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) malformed('PNG: bad signature');
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  let first = true;
  let seenIdat = false;
  for (;;) {
    if (pos + 12 > bytes.length) malformed(pos === bytes.length ? 'PNG: no IEND chunk' : 'PNG: chunk past the end');
    const length = readU32(bytes, pos);
    if (length > 0x7fffffff) malformed('PNG: chunk length above 2^31-1');
    const end = pos + 12 + length;
    if (end > bytes.length) malformed('PNG: chunk length past the end');
    for (let i = 4; i < 8; i++) if (!isAsciiLetter(bytes[pos + i]!)) malformed('PNG: chunk type is not four letters');
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!);
    if (first && (type !== 'IHDR' || length !== 13)) malformed('PNG: first chunk is not IHDR');
    if (!first && type === 'IHDR') malformed('PNG: second IHDR');
    first = false;
    const critical = (bytes[pos + 4]! & 0x20) === 0;
    if (critical && !PNG_CRITICAL.has(type)) {
      // A decoder must refuse an unknown critical chunk, and dropping it could change what
      // the image means, so the file is refused instead.
      throw new ImageMetadataError('unsupported_image', `PNG: unknown critical chunk ${type}`);
    }
    if (PNG_CRITICAL.has(type) || PNG_KEPT_ANCILLARY.has(type)) {
      // Kept chunks are copied with their CRC, which is checked first: a bad CRC means a
      // damaged or crafted file, which browsers refuse to draw anyway, and checking keeps
      // the promise that every chunk we emit is intact.
      if (crc32(bytes, pos + 4, end - 4) !== readU32(bytes, end - 4)) malformed(`PNG: bad CRC in ${type}`);
      parts.push(bytes.subarray(pos, end));
    }
    // Every other ancillary chunk is dropped: eXIf, tEXt, zTXt, iTXt, tIME, iCCP, pHYs,
    // sPLT, hIST, bKGD, sBIT, APNG's acTL/fcTL/fdAT (the still image stays), private chunks.
    if (type === 'IDAT') seenIdat = true;
    pos = end;
    if (type === 'IEND') {
      if (!seenIdat) malformed('PNG: no IDAT chunk');
      // Anything after IEND is dropped.
      return concat(parts);
    }
  }
}
