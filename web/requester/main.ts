/**
 * The requester page: write a request, encrypt it here, prove work, send it, show the
 * passphrase once; or come back with the passphrase to read replies and add a message.
 *
 * It leaves nothing on the device: no cookies, storage, IndexedDB or service worker, and
 * keys live in variables that the quick exit drops. It uses the pure-JS crypto backend, so
 * it works with WebAssembly disabled (Tor Browser's Safer level), and it encrypts only to
 * team keys whose v2 statements verify against the organisation root key embedded in this page.
 *
 * Protocol v2: the request and every follow-up are signed with the requester's own Ed25519
 * key (derived from the passphrase), at the thread's next position. Reading, each message is
 * opened and verified on its own (crypto/thread-reading.ts): one that does not verify is shown
 * as "could not be verified", never under the author it claims, and the rest stay readable.
 */
import { noblePrimitives as p } from '../../crypto/noble.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { MalformedError } from '../../crypto/errors.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { embeddedPageTitle, embeddedRootPublicKey, hasEmbeddedRootPublicKey } from '../shared/deployment.ts';
import { MessageKind, RecipientKind } from '../../crypto/v1/message.ts';
import { CURRENT_REQUESTER_PARAM_SET, REQUESTER_PARAM_SETS, generatePassphrase, lookupTokenHash } from '../../crypto/v1/requester.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import { sealMessageV2, sealRequestV2 } from '../../crypto/v2/message.ts';
import { encodeRequestBodyV2 } from '../../crypto/v2/request-body.ts';
import { deriveRequesterKeysV2, type RequesterKeysV2 } from '../../crypto/v2/requester.ts';
import { readThread, type ThreadEntry } from '../../crypto/thread-reading.ts';
import { MAX_BODY_BYTES } from '../../crypto/v1/padding.ts';
import { STRINGS, pickLanguage, type Lang, type Strings } from '../../crypto/requester-i18n.ts';
import { api, ApiError } from './api.ts';
import { verifiedTeamKey, type Team } from './team-keys.ts';
import { renderThread } from './thread-view.ts';
import { sendWithProof } from './pow.ts';
import { guardPassphrase } from './sent-screen.ts';
import { installQuickExit } from './quick-exit.ts';
import { renderRequestState, type RequestState } from './status-view.ts';
import { wordList, WordListError } from './word-lists.ts';
import { AttachmentError, prepareAttachments, type PreparedAttachments } from './attachments.ts';

interface Intake {
  orgId: Uint8Array;
  root: Uint8Array;
  teams: Team[];
}

/** How many times a follow-up is re-signed when another message took its position first. */
const POSITION_RETRIES = 3;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let lang: Lang = pickLanguage(navigator.languages ?? [navigator.language]);
let t: Strings = STRINGS[lang];
let intake: Intake | null = null;
/** The open thread's keys; dropped by quick exit. */
let session: { keys: RequesterKeysV2; threadId: Uint8Array | null; teamId: Uint8Array | null; entries: ThreadEntry[]; nextPosition: number; state: RequestState } | null = null;

function applyLanguage(): void {
  t = STRINGS[lang];
  document.documentElement.lang = lang;
  // The tab title and history entry stay neutral ("Notes"): they are what a device keeps.
  // The operator's title when set (HAVEN_REQUESTER_TITLE), else the neutral one of the language.
  document.title = embeddedPageTitle() ?? t.pageTitle;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    el.textContent = t[el.dataset.i18n as keyof Strings] ?? '';
  }
  if (intake) renderTeams(intake.teams);
  renderRequestState(session?.state ?? null, t, lang, $('request-status'), $('request-retention'));
}

function show(sectionId: 'compose' | 'sent' | 'return' | 'thread'): void {
  for (const id of ['compose', 'sent', 'return', 'thread']) $(id).hidden = id !== sectionId;
  const heading = $(sectionId).querySelector<HTMLElement>('h2');
  heading?.focus();
}

function setStatus(id: string, text: string, isError = false): void {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', isError);
}

/**
 * Fetches intake info and takes team keys only from statements that verify against the root
 * key embedded in this page (never a key from the API answer, which the server controls).
 */
async function loadIntake(): Promise<Intake> {
  const root = embeddedRootPublicKey();
  const info = await api<{
    organisation: { id: string };
    teams: { id: string; slug: string; name: string; names?: Record<string, unknown>; certificate: string }[];
  }>('/api/v1/intake');
  const orgId = base64urlDecode(info.organisation.id);
  const teams = info.teams.map((team) => {
    const id = base64urlDecode(team.id);
    return { id, slug: team.slug, name: team.name, names: displayNames(team.names), key: verifiedTeamKey(root, orgId, id, base64urlDecode(team.certificate)) };
  });
  const fp = $('fingerprint');
  fp.textContent = `${t.verified} ${rootFingerprint(p, root)}`;
  fp.hidden = false;
  return { orgId, root, teams };
}

/** A team's name per language, when the server gives one (plain text: shown as text, never as HTML). */
function displayNames(names: Record<string, unknown> | undefined): Partial<Record<Lang, string>> {
  const out: Partial<Record<Lang, string>> = {};
  for (const l of ['en', 'ru'] as const) if (typeof names?.[l] === 'string' && names[l] !== '') out[l] = names[l] as string;
  return out;
}

function renderTeams(teams: Team[]): void {
  const fieldset = $('teams');
  const checked = fieldset.querySelector<HTMLInputElement>('input[name="team"]:checked')?.value;
  fieldset.querySelectorAll('label').forEach((l) => l.remove());
  for (const team of teams) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'team';
    radio.value = team.slug;
    radio.checked = team.slug === checked;
    label.append(radio, document.createTextNode(team.names[lang] ?? team.name));
    fieldset.append(label);
  }
}

/** Words for a refused file: what is wrong and with which file (shown as text). */
function attachmentError(err: AttachmentError): string {
  const text = {
    too_many: t.filesTooMany,
    too_large: t.fileTooLarge,
    total_too_large: t.filesTooLarge,
    unsupported_type: t.fileUnsupported,
    bad_image: t.fileBadImage,
    unreadable: t.fileUnreadable,
  }[err.code];
  return text.replace('{name}', err.fileName);
}

/** Words for a failed send: encoders refuse only oversized text; anything else failed as a whole. */
function messageError(err: unknown): string {
  if (err instanceof MalformedError) return t.tooLong;
  if (err instanceof AttachmentError) return attachmentError(err);
  if (err instanceof ApiError) {
    if (err.code === 'too_many_attachments') return t.filesTooMany.replace('{name}', '');
    if (err.code === 'attachment_too_large') return t.fileTooLarge.replace('{name}', '');
    if (err.code === 'attachments_too_large') return t.filesTooLarge;
    if (err.status === 409 && err.code === 'conflict') return t.staleKey;
    if (err.status === 0 || err.status >= 500) return t.unavailable;
  }
  return t.failed;
}

/**
 * Locks the form while the passphrase, encryption, proof and sending run: what is sent is what
 * was on screen at "send", and nothing typed meanwhile can be silently dropped by the reset
 * that follows a successful send. A failure unlocks it with the text still there.
 */
function lockCompose(locked: boolean): void {
  const form = $<HTMLFormElement>('request-form');
  $<HTMLTextAreaElement>('message').readOnly = locked;
  $<HTMLInputElement>('contact').readOnly = locked;
  $<HTMLInputElement>('files').disabled = locked;
  for (const radio of form.querySelectorAll<HTMLInputElement>('input[name="team"]')) radio.disabled = locked;
  $<HTMLButtonElement>('send').disabled = locked;
  form.setAttribute('aria-busy', String(locked));
}

async function submitRequest(event: Event): Promise<void> {
  event.preventDefault();
  const form = $<HTMLFormElement>('request-form');
  const chosen = form.querySelector<HTMLInputElement>('input[name="team"]:checked');
  const message = $<HTMLTextAreaElement>('message').value;
  const contact = $<HTMLInputElement>('contact').value.trim();
  const team = intake?.teams.find((x) => x.slug === chosen?.value);
  if (!intake || !team) return setStatus('compose-status', t.chooseTeam, true);
  if (message.trim() === '') return setStatus('compose-status', t.empty, true);
  const key = team.key;
  if (!key) return setStatus('compose-status', t.keysExpired, true);
  lockCompose(true);
  try {
    setStatus('compose-status', t.encrypting);
    // Files first: a refused file stops everything before a key is derived or a byte is sent.
    const files = Array.from($<HTMLInputElement>('files').files ?? []);
    const attached: PreparedAttachments = files.length > 0 ? await prepareAttachments(p, files) : { refs: [], blobs: [], extraBits: 0 };
    const params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!;
    const passphrase = generatePassphrase(p, await wordList(lang));
    const keys = await deriveRequesterKeysV2(p, passphrase, intake.orgId, params);
    // The signing key travels in the request: the team checks every later follow-up against it.
    const body = encodeRequestBodyV2({
      topic: team.name, message, ...(contact ? { contact } : {}), replyPublicKey: keys.replyPublic, argon: params, signPublicKey: keys.signPublic,
      ...(attached.refs.length > 0 ? { attachments: attached.refs } : {}),
    });
    if (body.length > MAX_BODY_BYTES) return setStatus('compose-status', t.tooLong, true);
    const id = p.randomBytes(16);
    const envelope = sealRequestV2(p, { orgId: intake.orgId, teamId: team.id, epoch: key.epoch, teamPublic: key.publicKey, id, requester: keys, body });
    setStatus('compose-status', t.proving);
    // A proof the server finds too weak when it arrives (the intake got busy) is solved again, harder.
    await sendWithProof($<HTMLProgressElement>('progress'), (pow) => {
      setStatus('compose-status', t.sending);
      return api('/api/v1/requests', {
        envelope: base64urlEncode(envelope),
        lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)),
        pow,
        ...(attached.blobs.length > 0 ? { attachments: attached.blobs.map((a) => ({ id: base64urlEncode(a.id), blob: base64urlEncode(a.blob) })) } : {}),
      });
    }, () => setStatus('compose-status', t.proving), attached.extraBits);
    form.reset();
    setStatus('compose-status', '');
    $('progress').hidden = true;
    show('sent');
    guardPassphrase(passphrase, () => t, (n) => p.randomBytes(n), () => show('return'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) intake = await loadIntake().catch(() => intake);
    setStatus('compose-status', err instanceof WordListError ? t.wordListFailed : messageError(err), true);
    $('progress').hidden = true;
  } finally {
    lockCompose(false);
  }
}

/**
 * Fetches and reads the thread the keys open. @returns false only when the server lists no
 * message at all for this passphrase: one bad message never makes a thread "not found".
 */
async function loadThread(keys: RequesterKeysV2): Promise<boolean> {
  if (!intake) intake = await loadIntake();
  const { messages, nextPosition, ...state } = await api<{ messages: { blob: string }[]; nextPosition: number } & RequestState>('/api/v1/threads/lookup', {
    token: base64urlEncode(keys.lookupToken),
  });
  if (messages.length === 0) return false;
  const blobs = messages.map((m) => {
    try {
      return base64urlDecode(m.blob);
    } catch {
      return new Uint8Array(0); // not base64url: read as an unverifiable message
    }
  });
  const thread = readThread(p, blobs, {
    recipientKind: RecipientKind.requester,
    secretFor: () => keys.replySecret,
    orgId: intake.orgId,
    rootPublic: intake.root,
    ownSignPublic: keys.signPublic,
  });
  session = { keys, threadId: thread.threadId, teamId: thread.teamId, entries: thread.entries, nextPosition, state: { status: state.status, deleteAfter: state.deleteAfter, retentionDays: state.retentionDays } };
  renderThread(thread.entries, t, $('messages'), $('no-replies'));
  renderRequestState(session.state, t, lang, $('request-status'), $('request-retention'));
  // Without a verified request there is nothing to sign a follow-up into.
  $<HTMLButtonElement>('send-followup').disabled = thread.threadId === null;
  return true;
}

async function openThread(passphrase: string): Promise<boolean> {
  if (!intake) intake = await loadIntake();
  const keys = await deriveRequesterKeysV2(p, passphrase, intake.orgId, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
  return loadThread(keys);
}

async function submitReturn(event: Event): Promise<void> {
  event.preventDefault();
  const input = $<HTMLInputElement>('passphrase-in');
  const button = $<HTMLButtonElement>('open');
  button.disabled = true;
  setStatus('return-status', t.opening);
  try {
    if (await openThread(input.value)) {
      input.value = '';
      setStatus('return-status', '');
      show('thread');
    } else {
      setStatus('return-status', t.notFound, true);
    }
  } catch (err) {
    setStatus('return-status', err instanceof ApiError ? messageError(err) : t.notFound, true);
  } finally {
    button.disabled = false;
  }
}

async function submitFollowUp(event: Event): Promise<void> {
  event.preventDefault();
  const text = $<HTMLTextAreaElement>('followup').value;
  if (!session || !intake) return;
  if (text.trim() === '') return setStatus('thread-status', t.empty, true);
  const current = session;
  const threadId = current.threadId;
  const team = intake.teams.find((x) => current.teamId !== null && p.constantTimeEqual(x.id, current.teamId));
  if (!team || !threadId) return setStatus('thread-status', t.failed, true);
  if (!team.key) return setStatus('thread-status', t.keysExpired, true);
  const key = team.key;
  const orgId = intake.orgId;
  const button = $<HTMLButtonElement>('send-followup');
  button.disabled = true;
  try {
    const body = encodeTextBody(text);
    setStatus('thread-status', t.proving);
    // A refused position rolls the server's transaction back, proof included: the same proof
    // goes with every re-signed attempt. A proof found too weak is solved again, harder.
    await sendWithProof($<HTMLProgressElement>('followup-progress'), async (pow) => {
      for (let attempt = 0; ; attempt++) {
        const envelope = sealMessageV2(p, {
          kind: MessageKind.followup,
          orgId,
          teamId: team.id,
          epoch: key.epoch,
          threadId,
          messageId: p.randomBytes(16),
          position: current.nextPosition,
          teamPublic: key.publicKey,
          requesterPublic: current.keys.replyPublic,
          body,
          author: { type: 'requester', signSeed: current.keys.signSeed },
        });
        try {
          await api('/api/v1/threads/messages', { token: base64urlEncode(current.keys.lookupToken), envelope: base64urlEncode(envelope), pow });
          break;
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 'position_taken') || attempt >= POSITION_RETRIES) throw err;
          // Someone (the team) wrote first: re-read the thread for its next position, sign again.
          setStatus('thread-status', t.retrying);
          await loadThread(current.keys);
          current.nextPosition = session?.nextPosition ?? current.nextPosition;
        }
      }
    }, () => setStatus('thread-status', t.proving));
    $<HTMLTextAreaElement>('followup').value = '';
    $('followup-progress').hidden = true;
    await loadThread(current.keys);
    setStatus('thread-status', t.added);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.code === 'conflict') intake = await loadIntake().catch(() => intake);
    setStatus('thread-status', messageError(err), true);
  } finally {
    button.disabled = session?.threadId === null;
  }
}

async function start(): Promise<void> {
  installQuickExit($('quick-exit'), () => {
    session = null;
    intake = null;
  });
  const langButton = $('lang');
  langButton.hidden = false;
  langButton.addEventListener('click', () => {
    lang = lang === 'en' ? 'ru' : 'en';
    applyLanguage();
  });
  applyLanguage();
  $('request-form').addEventListener('submit', (e) => void submitRequest(e));
  $('return-form').addEventListener('submit', (e) => void submitReturn(e));
  $('followup-form').addEventListener('submit', (e) => void submitFollowUp(e));
  $('have-code').addEventListener('click', () => show('return'));
  $('back').addEventListener('click', () => show('compose'));
  show('compose');
  // Not set up: the page says so (server-rendered notice); there is nothing to encrypt to.
  if (!hasEmbeddedRootPublicKey()) {
    $<HTMLButtonElement>('send').disabled = true;
    return;
  }
  try {
    intake = await loadIntake();
    renderTeams(intake.teams);
    if (intake.teams.length > 0 && intake.teams.every((x) => x.key === null)) {
      // Genuine keys, but old-format or expired: nothing can be sent until an admin renews them.
      const fatal = $('fatal');
      fatal.textContent = t.keysExpired;
      fatal.hidden = false;
      $<HTMLButtonElement>('send').disabled = true;
    }
  } catch (err) {
    const fatal = $('fatal');
    fatal.textContent = err instanceof ApiError ? t.unavailable : t.keyProblem;
    fatal.hidden = false;
    $<HTMLButtonElement>('send').disabled = true;
  }
}

void start();
