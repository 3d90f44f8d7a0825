/**
 * The Security screen: the signed-in person's own second factors, set up by choice rather
 * than only when the organisation's policy forces it: passkeys (add, remove, keep the keys on
 * one with PRF), an authenticator app (TOTP), and new recovery codes (PROTOCOL 22.8-22.17).
 */
import { fill } from '../i18n.ts';
import { $, api, ApiError, hourText, primitives, show, state } from '../shell.ts';
import { loadRows } from './list.ts';
import { enrolPasskey, haveWrapKey, moveKeysToPasskey, type PasskeyJson } from './passkey.ts';

interface Status {
  policy: string;
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeyJson[];
  keysOnPasskeys: boolean;
}

/** The passkey just added whose authenticator can hold the keys, waiting for the person's consent. */
let prfCandidate: { id: string; credentialId: string } | null = null;
let totpPending: string | null = null;

function say(text: string, error = false): void {
  const el = $('sec-status');
  el.classList.toggle('error', error);
  el.textContent = text;
}

export async function openSecurity(): Promise<void> {
  if (!state.vault) return;
  if (state.screen === 'security') {
    show('list');
    await loadRows(true);
    return;
  }
  show('security');
  say('');
  await refresh();
}

async function refresh(): Promise<void> {
  let s: Status;
  try {
    s = await api<Status>('GET', '/api/v1/second-factor');
  } catch {
    say(state.t.unavailable, true);
    return;
  }
  $('sec-passkeys').replaceChildren(...s.passkeys.map((k, i) => {
    const li = document.createElement('li');
    li.className = 'sec-passkey';
    li.textContent = `${fill(state.t.pkItem, { hour: hourText(k.createdHour) })} ${k.holdsKeys ? state.t.pkHoldsKeys : ''} `;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.id = `sec-remove-${i}`;
    remove.textContent = state.t.pkRemove;
    remove.setAttribute('aria-label', `${state.t.pkRemove}: ${li.textContent.trim()}`);
    remove.addEventListener('click', () => void removePasskey(k.id));
    li.append(remove);
    return li;
  }));
  $('sec-keys-state').textContent = s.keysOnPasskeys ? state.t.secKeysOnPasskeys : state.t.secKeysOnPassphrase;
  $('sec-totp-state').textContent = s.totp ? state.t.secTotpOn : state.t.secTotpOff;
  $('sec-recovery-state').textContent = fill(state.t.secRecoveryLeft, { n: s.recoveryCodesLeft });
  $<HTMLButtonElement>('sec-recovery-renew').disabled = !s.totp && s.passkeys.length === 0;
  $('sec-prf').hidden = prfCandidate === null || !haveWrapKey();
}

function showCodes(codes: string[]): void {
  if (codes.length === 0) return;
  $('sec-codes-list').replaceChildren(...codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  $('sec-codes').hidden = false;
  $('sec-codes-done').focus();
}

async function addPasskey(): Promise<void> {
  say('');
  try {
    const r = await enrolPasskey<{ passkey: PasskeyJson; recoveryCodes: string[] | null }>();
    prfCandidate = r.prfEnabled ? { id: r.passkey.id, credentialId: r.credentialId } : null;
    $<HTMLInputElement>('sec-prf-understood').checked = false;
    say(r.prfEnabled ? state.t.pkAdded : state.t.pkAddedNoPrf);
    showCodes(r.recoveryCodes ?? []);
  } catch {
    say(state.t.pkFailed, true);
  }
  await refresh();
}

async function moveKeys(): Promise<void> {
  const candidate = prfCandidate;
  if (!candidate) return;
  if (!$<HTMLInputElement>('sec-prf-understood').checked) {
    $('sec-prf-understood').focus();
    return;
  }
  const button = $<HTMLButtonElement>('sec-prf-move');
  button.disabled = true;
  try {
    const moved = await moveKeysToPasskey(await primitives(), candidate.id, candidate.credentialId);
    say(moved ? state.t.secPrfDone : state.t.secPrfNoOutput, !moved);
    if (moved) prfCandidate = null;
  } catch {
    say(state.t.pkFailed, true);
  } finally {
    button.disabled = false;
  }
  await refresh();
}

async function removePasskey(id: string): Promise<void> {
  try {
    await api('DELETE', `/api/v1/second-factor/passkeys/${id}`);
    if (prfCandidate?.id === id) prfCandidate = null;
    say(state.t.pkRemoved);
  } catch (err) {
    say(err instanceof ApiError && err.status === 409 ? state.t.pkRemoveRefused : state.t.unavailable, true);
  }
  await refresh();
}

async function startTotp(): Promise<void> {
  try {
    const r = await api<{ uri: string; secret: string; pending: string }>('POST', '/api/v1/second-factor/totp/start', {});
    totpPending = r.pending;
    $('sec-totp-uri').textContent = r.uri;
    $('sec-totp-secret').textContent = r.secret;
    $('sec-totp-form').hidden = false;
    $('sec-totp-code').focus();
  } catch {
    say(state.t.unavailable, true);
  }
}

async function confirmTotp(event: Event): Promise<void> {
  event.preventDefault();
  const input = $<HTMLInputElement>('sec-totp-code');
  const code = input.value.trim();
  if (!totpPending || !code) return;
  try {
    const r = await api<{ recoveryCodes: string[] }>('POST', '/api/v1/second-factor/totp/confirm', { pending: totpPending, code });
    input.value = '';
    totpPending = null;
    $('sec-totp-form').hidden = true;
    for (const id of ['sec-totp-uri', 'sec-totp-secret']) $(id).replaceChildren();
    say(state.t.secTotpDone);
    showCodes(r.recoveryCodes);
  } catch (err) {
    say(err instanceof ApiError && err.status === 401 ? state.t.sfWrong : state.t.unavailable, true);
  }
  await refresh();
}

async function renewCodes(): Promise<void> {
  try {
    showCodes((await api<{ recoveryCodes: string[] }>('POST', '/api/v1/second-factor/recovery-codes', {})).recoveryCodes);
  } catch {
    say(state.t.unavailable, true);
  }
  await refresh();
}

/** Empties the screen (shell.ts wipe): nothing of it outlives the session. */
export function wipeSecurity(): void {
  prfCandidate = null;
  totpPending = null;
  for (const id of ['sec-passkeys', 'sec-codes-list', 'sec-totp-uri', 'sec-totp-secret', 'sec-status', 'sec-keys-state']) $(id).replaceChildren();
  $('sec-codes').hidden = true;
  $('sec-totp-form').hidden = true;
  $('sec-prf').hidden = true;
}

export function initSecurity(): void {
  $('security-nav').addEventListener('click', () => void openSecurity());
  $('sec-back').addEventListener('click', () => void openSecurity());
  $('sec-add-passkey').addEventListener('click', () => void addPasskey());
  $('sec-prf-move').addEventListener('click', () => void moveKeys());
  $('sec-totp-start').addEventListener('click', () => void startTotp());
  $('sec-totp-form').addEventListener('submit', (e) => void confirmTotp(e));
  $('sec-recovery-renew').addEventListener('click', () => void renewCodes());
  $('sec-codes-done').addEventListener('click', () => {
    $('sec-codes-list').replaceChildren();
    $('sec-codes').hidden = true;
  });
}
