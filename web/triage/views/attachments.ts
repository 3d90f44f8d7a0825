/**
 * A request's attachments in the thread view (PROTOCOL.md 10.2, 23.3a): listed from the
 * verified request body (name cleaned, size), downloaded as ciphertext, decrypted here with the
 * per-file key from that body, and saved through a Blob URL as a download.
 *
 * The server (or anyone between) can serve other bytes: a blob that is tampered with,
 * truncated, reordered, another file's, or of the wrong length does not decrypt to the file
 * the requester named, and is refused with a readable message. The saved file's type comes from
 * its decrypted bytes (JPEG, PNG, PDF, else octet-stream), never from the request or the server;
 * it is never rendered in this page, and its name cannot make it HTML.
 */
import { DecryptionError } from '../../../crypto/errors.ts';
import { decryptAttachment } from '../../../crypto/v1/attachment.ts';
import type { AttachmentRef } from '../../../crypto/v1/request-body.ts';
import { base64urlEncode } from '../../../crypto/encoding.ts';
import { cleanAttachmentName, detectAttachmentType, safeAttachmentName } from '../../shared/attachment-files.ts';
import { fill } from '../i18n.ts';
import { alertError, announce, primitives, state } from '../shell.ts';

function sizeText(bytes: number): string {
  if (bytes < 1024) return fill(state.t.attachmentBytes, { n: String(bytes) });
  if (bytes < 1024 * 1024) return fill(state.t.attachmentKiB, { n: (bytes / 1024).toFixed(0) });
  return fill(state.t.attachmentMiB, { n: (bytes / (1024 * 1024)).toFixed(1) });
}

/** The encrypted bytes, same-origin with the session cookie. @throws Error('fetch') on any failure. */
async function fetchBlob(requestId: string, ref: AttachmentRef): Promise<Uint8Array> {
  const res = await fetch(`/api/v1/requests/${requestId}/attachments/${base64urlEncode(ref.streamId)}`, {
    credentials: 'same-origin',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  if (!res.ok) throw new Error('fetch');
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Decrypts a downloaded blob for `ref`. @throws DecryptionError for anything that is not the
 * file the requester named (wrong key, tampered, reordered, truncated, wrong length); crypto
 * version/MalformedError for bytes that are not the format.
 */
export async function openAttachment(ref: AttachmentRef, blob: Uint8Array): Promise<Uint8Array> {
  const file = decryptAttachment(await primitives(), ref.key, blob);
  if (file.length !== ref.size) throw new DecryptionError('attachment is not the size the request names');
  return file;
}

async function download(requestId: string, ref: AttachmentRef, button: HTMLButtonElement): Promise<void> {
  alertError(null);
  button.disabled = true;
  try {
    let blob: Uint8Array;
    try {
      blob = await fetchBlob(requestId, ref);
    } catch {
      alertError(state.t.attachmentFetchFailed);
      return;
    }
    let file: Uint8Array<ArrayBuffer>;
    try {
      file = new Uint8Array(await openAttachment(ref, blob));
    } catch {
      alertError(state.t.attachmentBroken);
      return;
    }
    const type = detectAttachmentType(file);
    // The type a browser would use to open it: only the three accepted ones, else bytes.
    const url = URL.createObjectURL(new Blob([file], { type: type ?? 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = safeAttachmentName(ref.name, type);
    a.rel = 'noopener';
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    // Revoked soon after: the decrypted file does not stay reachable from this page.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce(state.t.attachmentSaved);
  } finally {
    button.disabled = false;
  }
}

/** Fills `list` with the request's attachments: cleaned name, size, a download button each. */
export function renderAttachments(list: HTMLElement, requestId: string, refs: readonly AttachmentRef[]): void {
  if (refs.length === 0) {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: state.t.attachmentsNone }));
    return;
  }
  list.replaceChildren(
    ...refs.map((ref) => {
      const li = document.createElement('li');
      // The name is the requester's text: shown as text only, cleaned of direction tricks.
      const name = cleanAttachmentName(ref.name);
      const label = Object.assign(document.createElement('span'), { className: 'attachment-name', textContent: `${name} (${sizeText(ref.size)})` });
      const button = Object.assign(document.createElement('button'), { type: 'button', textContent: state.t.attachmentDownload });
      button.setAttribute('aria-label', fill(state.t.attachmentDownloadNamed, { name }));
      button.addEventListener('click', () => void download(requestId, ref, button));
      li.append(label, ' ', button);
      return li;
    }),
    Object.assign(document.createElement('li'), { className: 'hint', textContent: state.t.attachmentsAdvice }),
  );
}
