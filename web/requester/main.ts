/**
 * The requester page: write a request, encrypt it here, prove work, send it, show the
 * passphrase once; or come back with the passphrase to read replies and add a message.
 *
 * It leaves nothing on the device: no cookies, storage, IndexedDB or service worker, and
 * keys live in variables that the quick exit drops. It uses the pure-JS crypto backend, so
 * it works with WebAssembly disabled (Tor Browser's Safer level), and it encrypts only to
 * team keys whose certificates verify against the organisation root key.
 */
import { noblePrimitives as p } from '../../crypto/noble.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { MalformedError } from '../../crypto/errors.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { verifyCurrentTeamKey } from '../../crypto/team-key-any.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { embeddedRootPublicKey, hasEmbeddedRootPublicKey } from '../shared/deployment.ts';
import { MessageKind, RecipientKind, openMessage, sealMessage, type MessageKindValue } from '../../crypto/v1/message.ts';
import { decodeRequestBody, encodeRequestBody } from '../../crypto/v1/request-body.ts';
import {
  CURRENT_REQUESTER_PARAM_SET,
  REQUESTER_PARAM_SETS,
  deriveRequesterKeys,
  generatePassphrase,
  lookupTokenHash,
  type RequesterKeys,
} from '../../crypto/v1/requester.ts';
import { decodeTextBody, encodeTextBody } from '../../crypto/v1/text-body.ts';
import { MAX_BODY_BYTES } from '../../crypto/v1/padding.ts';
import { WORDS as EN_WORDS } from '../../crypto/wordlists/en.ts';
import { WORDS as RU_WORDS } from '../../crypto/wordlists/ru.ts';
import { STRINGS, pickLanguage, type Lang, type Strings } from '../../common/requester-i18n.ts';

declare const __WORKER_URLS__: Record<string, string>;

/** Where the quick exit goes: a neutral, common site; the history entry is replaced. */
const QUICK_EXIT_URL = 'https://www.wikipedia.org/';

interface Team {
  id: Uint8Array;
  slug: string;
  name: string;
  epoch: number;
  publicKey: Uint8Array;
}

interface Intake {
  orgId: Uint8Array;
  teams: Team[];
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let lang: Lang = pickLanguage(navigator.languages ?? [navigator.language]);
let t: Strings = STRINGS[lang];
let intake: Intake | null = null;
/** The open thread's keys; dropped by quick exit. */
let session: { keys: RequesterKeys; threadId: Uint8Array; teamId: Uint8Array; entries: ThreadEntry[] } | null = null;

function applyLanguage(): void {
  t = STRINGS[lang];
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    el.textContent = t[el.dataset.i18n as keyof Strings] ?? '';
  }
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

async function api<T>(path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'unknown');
  return json as T;
}

/**
 * Fetches intake info and keeps only teams whose key certificate verifies against the root
 * key embedded in this page (never a key from the API answer, which the server controls).
 */
async function loadIntake(): Promise<Intake> {
  const root = embeddedRootPublicKey();
  const info = await api<{
    organisation: { id: string };
    teams: { id: string; slug: string; name: string; certificate: string }[];
  }>('/api/v1/intake');
  const orgId = base64urlDecode(info.organisation.id);
  const teams = info.teams.map((team) => {
    const id = base64urlDecode(team.id);
    // Throws on any forged or misdirected key: then nothing may be sent at all.
    // Either version (teams move from v1 certificates to v2 statements as they are renewed); a
    // v2 statement must be valid now. The page's serial floor (minSerial) is wip-v2msg's to add.
    const cert = verifyCurrentTeamKey(p, root, base64urlDecode(team.certificate), { orgId, teamId: id, nowHour: unixHour(Date.now()) });
    return { id, slug: team.slug, name: team.name, epoch: cert.epoch, publicKey: cert.publicKey };
  });
  const fp = $('fingerprint');
  fp.textContent = `${t.verified} ${rootFingerprint(p, root)}`;
  fp.hidden = false;
  return { orgId, teams };
}

function renderTeams(teams: Team[]): void {
  const fieldset = $('teams');
  fieldset.querySelectorAll('label').forEach((l) => l.remove());
  for (const team of teams) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'team';
    radio.value = team.slug;
    label.append(radio, document.createTextNode(team.name));
    fieldset.append(label);
  }
}

function solveInWorker(challenge: Uint8Array, progress: HTMLProgressElement): Promise<Uint8Array> {
  progress.hidden = false;
  progress.value = 0;
  return new Promise((resolve, reject) => {
    const worker = new Worker(__WORKER_URLS__['pow-worker']!);
    worker.onmessage = (event: MessageEvent<{ progress?: number; nonce?: Uint8Array }>) => {
      if (event.data.progress !== undefined) progress.value = event.data.progress;
      if (event.data.nonce) {
        progress.value = 1;
        worker.terminate();
        resolve(event.data.nonce);
      }
    };
    worker.onerror = () => {
      worker.terminate();
      reject(new ApiError(0, 'worker'));
    };
    worker.postMessage({ challenge });
  });
}

async function proveWork(progress: HTMLProgressElement) {
  const { challenge } = await api<{ challenge: string }>('/api/v1/pow/challenge');
  const bytes = base64urlDecode(challenge);
  const nonce = await solveInWorker(bytes, progress);
  return { challenge, nonce: base64urlEncode(nonce) };
}

/** Words for a failed send: encoders refuse only oversized text; anything else failed as a whole. */
function messageError(err: unknown): string {
  if (err instanceof MalformedError) return t.tooLong;
  if (err instanceof ApiError) {
    if (err.status === 409 && err.code === 'conflict') return t.staleKey;
    if (err.status === 0 || err.status >= 500) return t.unavailable;
  }
  return t.failed;
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
  const send = $<HTMLButtonElement>('send');
  send.disabled = true;
  try {
    setStatus('compose-status', t.encrypting);
    const params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!;
    const passphrase = generatePassphrase(p, lang === 'ru' ? RU_WORDS : EN_WORDS);
    const keys = await deriveRequesterKeys(p, passphrase, intake.orgId, params);
    const body = encodeRequestBody({ topic: team.name, message, ...(contact ? { contact } : {}), replyPublicKey: keys.replyPublic, argon: params });
    if (body.length > MAX_BODY_BYTES) return setStatus('compose-status', t.tooLong, true);
    const id = p.randomBytes(16);
    const envelope = sealMessage(p, {
      kind: MessageKind.request,
      orgId: intake.orgId,
      teamId: team.id,
      epoch: team.epoch,
      threadId: id,
      messageId: id,
      teamPublic: team.publicKey,
      requesterPublic: keys.replyPublic,
      body,
    });
    setStatus('compose-status', t.proving);
    const pow = await proveWork($<HTMLProgressElement>('progress'));
    setStatus('compose-status', t.sending);
    await api('/api/v1/requests', { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow });
    form.reset();
    setStatus('compose-status', '');
    $('progress').hidden = true;
    $('passphrase-out').textContent = passphrase;
    show('sent');
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) intake = await loadIntake().catch(() => intake);
    setStatus('compose-status', messageError(err), true);
  } finally {
    send.disabled = false;
  }
}

interface ThreadEntry {
  kind: MessageKindValue;
  text: string;
}

function renderThread(entries: ThreadEntry[]): void {
  const list = $('messages');
  list.replaceChildren();
  for (const entry of entries) {
    const li = document.createElement('li');
    const fromTeam = entry.kind === MessageKind.reply;
    li.className = fromTeam ? 'from-team' : 'from-you';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = fromTeam ? t.fromTeam : t.fromYou;
    // Text only: a reply is never parsed as HTML.
    li.append(who, document.createTextNode(entry.text));
    list.append(li);
  }
  $('no-replies').hidden = entries.some((e) => e.kind === MessageKind.reply);
}

async function openThread(passphrase: string): Promise<boolean> {
  if (!intake) intake = await loadIntake();
  const keys = await deriveRequesterKeys(p, passphrase, intake.orgId, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
  const { messages } = await api<{ messages: { kind: string; blob: string }[] }>('/api/v1/threads/lookup', { token: base64urlEncode(keys.lookupToken) });
  if (messages.length === 0) return false;
  const entries: ThreadEntry[] = [];
  let threadId: Uint8Array | null = null;
  let teamId: Uint8Array | null = null;
  for (const m of messages) {
    const { header, body } = openMessage(p, base64urlDecode(m.blob), { recipientKind: RecipientKind.requester, secret: keys.replySecret, expected: { orgId: intake.orgId, ...(threadId ? { threadId } : {}) } });
    if (header.kind === MessageKind.request) {
      threadId = header.threadId;
      teamId = header.teamId;
      entries.push({ kind: header.kind, text: decodeRequestBody(body).message });
    } else {
      entries.push({ kind: header.kind, text: decodeTextBody(body) });
    }
  }
  if (!threadId || !teamId) return false;
  session = { keys, threadId, teamId, entries };
  renderThread(entries);
  return true;
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
  const team = intake.teams.find((x) => p.constantTimeEqual(x.id, current.teamId));
  if (!team) return setStatus('thread-status', t.failed, true);
  const button = $<HTMLButtonElement>('send-followup');
  button.disabled = true;
  try {
    const envelope = sealMessage(p, {
      kind: MessageKind.followup,
      orgId: intake.orgId,
      teamId: team.id,
      epoch: team.epoch,
      threadId: current.threadId,
      messageId: p.randomBytes(16),
      teamPublic: team.publicKey,
      requesterPublic: current.keys.replyPublic,
      body: encodeTextBody(text),
    });
    setStatus('thread-status', t.proving);
    const pow = await proveWork($<HTMLProgressElement>('followup-progress'));
    await api('/api/v1/threads/messages', { token: base64urlEncode(current.keys.lookupToken), envelope: base64urlEncode(envelope), pow });
    $<HTMLTextAreaElement>('followup').value = '';
    $('followup-progress').hidden = true;
    current.entries.push({ kind: MessageKind.followup, text });
    renderThread(current.entries);
    setStatus('thread-status', t.added);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) intake = await loadIntake().catch(() => intake);
    setStatus('thread-status', messageError(err), true);
  } finally {
    button.disabled = false;
  }
}

/** Wipes what is on screen and in memory, then replaces this history entry with a neutral site. */
function quickExit(): void {
  session = null;
  intake = null;
  document.body.replaceChildren();
  location.replace(QUICK_EXIT_URL);
}

function watchEscape(): void {
  let presses: number[] = [];
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const now = performance.now();
    presses = [...presses.filter((at) => now - at < 2000), now];
    if (presses.length >= 3) quickExit();
  });
}

async function start(): Promise<void> {
  $('quick-exit').addEventListener('click', quickExit);
  watchEscape();
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
  $('written').addEventListener('click', () => {
    $('passphrase-out').textContent = '';
    show('return');
  });
  show('compose');
  // Not set up: the page says so (server-rendered notice); there is nothing to encrypt to.
  if (!hasEmbeddedRootPublicKey()) {
    $<HTMLButtonElement>('send').disabled = true;
    return;
  }
  try {
    intake = await loadIntake();
    renderTeams(intake.teams);
  } catch (err) {
    const fatal = $('fatal');
    fatal.textContent = err instanceof ApiError ? t.unavailable : t.keyProblem;
    fatal.hidden = false;
    $<HTMLButtonElement>('send').disabled = true;
  }
}

void start();
