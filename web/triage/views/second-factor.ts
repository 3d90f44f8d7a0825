/**
 * The second step of sign-in, after a right passphrase: a TOTP code or a recovery code when
 * the account has TOTP, or setting up TOTP when the organisation requires a second factor
 * the account lacks. The server hands out the key bundle only once this step is done, so
 * until then the wrap key waits here in memory; it is wiped when the step ends either way.
 *
 * The admin's policy form is web/triage/admin/second-factor-policy.ts.
 */
import type { TrustedRoot } from '../root-pin.ts';
import { $, api, ApiError, primitives, state } from '../shell.ts';
import { failLogin, openDashboard, type FullLoginJson } from './login.ts';
import { assertWithPrf, enrolPasskey, type PasskeyJson } from './passkey.ts';

interface Pending {
  wrapKey: Uint8Array;
  root: TrustedRoot;
  accountId: Uint8Array;
  /** The sealed TOTP secret between start and confirm (enrolment only). */
  totpPending: string | null;
}

let pending: Pending | null = null;

/** Hides every second-factor form and wipes the waiting wrap key. */
export function hideSecondFactor(): void {
  pending?.wrapKey.fill(0);
  pending = null;
  for (const id of ['sf-form', 'sf-enrol', 'sf-codes']) $(id).hidden = true;
  for (const id of ['sf-code', 'sf-enrol-code']) $<HTMLInputElement>(id).value = '';
  for (const id of ['sf-uri', 'sf-secret', 'sf-codes-list', 'sf-status', 'sf-enrol-status']) $(id).replaceChildren();
  $('sf-enrol-totp').hidden = false;
  $('sf-enrol-passkey-intro').hidden = true;
  $('login-form').hidden = false;
}

/** Takes over after the passphrase step; owns `wrapKey` from here on. */
export function askSecondFactor(stage: 'second_factor' | 'enrol_second_factor', wrapKey: Uint8Array, root: TrustedRoot, accountId: Uint8Array): void {
  hideSecondFactor();
  pending = { wrapKey, root, accountId, totpPending: null };
  $('login-form').hidden = true;
  if (stage === 'second_factor') {
    $('sf-form').hidden = false;
    $('sf-code').focus();
  } else {
    $('sf-enrol').hidden = false;
    void startEnrolment();
  }
}

/** Under policy `passkey` only a passkey ends the enrolment; otherwise TOTP is offered too. */
async function startEnrolment(): Promise<void> {
  let policy = 'any';
  try {
    policy = (await api<{ policy: string }>('GET', '/api/v1/second-factor')).policy;
  } catch {
    // TOTP is offered; the server still refuses it if a passkey is required.
  }
  if (!pending) return;
  $('sf-enrol-passkey-intro').hidden = policy !== 'passkey';
  $('sf-enrol-totp').hidden = policy === 'passkey';
  if (policy === 'passkey') $('sf-enrol-passkey').focus();
  else await startTotp();
}

async function signInWithPasskey(): Promise<void> {
  const waiting = pending;
  if (!waiting) return;
  const status = $('sf-status');
  status.classList.remove('error');
  status.textContent = '';
  const button = $<HTMLButtonElement>('sf-passkey');
  button.disabled = true;
  let prf: Uint8Array | null = null;
  try {
    const p = await primitives();
    const asserted = await assertWithPrf(p, waiting.accountId);
    prf = asserted.prf;
    const login = await api<FullLoginJson>('POST', '/api/v1/login/passkey', { response: asserted.response });
    await finish(login, 'sf-status', prf);
  } catch (err) {
    status.classList.add('error');
    status.textContent = err instanceof ApiError && err.status === 404 ? state.t.pkNone : err instanceof ApiError && err.status >= 500 ? state.t.unavailable : state.t.pkFailed;
  } finally {
    prf?.fill(0);
    button.disabled = false;
  }
}

async function enrolPasskeyNow(): Promise<void> {
  if (!pending) return;
  const status = $('sf-enrol-status');
  status.classList.remove('error');
  try {
    const r = await enrolPasskey<{ passkey: PasskeyJson; recoveryCodes: string[] | null; login?: FullLoginJson }>();
    $('sf-enrol').hidden = true;
    showCodes(r.recoveryCodes ?? [], r.login);
  } catch {
    status.classList.add('error');
    status.textContent = state.t.pkFailed;
  }
}

/** Shows recovery codes once (if any), then opens the dashboard with `login`. */
function showCodes(codes: string[], login: FullLoginJson | undefined): void {
  if (codes.length === 0) {
    if (login) void finish(login, 'sf-enrol-status');
    return;
  }
  const list = $('sf-codes-list');
  list.replaceChildren(...codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  $('sf-codes').hidden = false;
  $('sf-codes-done').focus();
  $('sf-codes-done').onclick = () => {
    list.replaceChildren();
    $('sf-codes').hidden = true;
    if (login) void finish(login, 'sf-enrol-status');
  };
}

async function finish(login: FullLoginJson, statusId: string, prf: Uint8Array | null = null): Promise<void> {
  const waiting = pending;
  if (!waiting) return;
  try {
    await openDashboard(await primitives(), waiting.wrapKey, waiting.root, login, prf);
  } catch (err) {
    hideSecondFactor();
    failLogin($('login-status'), err);
    return;
  } finally {
    waiting.wrapKey.fill(0);
  }
  $(statusId).textContent = '';
  pending = null;
}

export async function submitSecondFactor(event: Event): Promise<void> {
  event.preventDefault();
  if (!pending) return;
  const input = $<HTMLInputElement>('sf-code');
  const code = input.value.trim();
  if (!code) return;
  input.value = '';
  const status = $('sf-status');
  status.classList.remove('error');
  const button = $<HTMLButtonElement>('sf-submit');
  button.disabled = true;
  try {
    // Six digits are a TOTP code; anything else is tried as a recovery code.
    const body = /^[0-9]{6}$/.test(code) ? { totp: code } : { recoveryCode: code };
    const login = await api<FullLoginJson>('POST', '/api/v1/login/second-factor', body);
    await finish(login, 'sf-status');
  } catch (err) {
    status.classList.add('error');
    // A 401 after too many wrong codes means the half-open session is gone: start again.
    status.textContent = err instanceof ApiError && err.status === 401 ? state.t.sfWrong : state.t.unavailable;
  } finally {
    button.disabled = false;
  }
}

async function startTotp(): Promise<void> {
  const status = $('sf-enrol-status');
  status.classList.remove('error');
  try {
    const r = await api<{ uri: string; secret: string; pending: string }>('POST', '/api/v1/second-factor/totp/start', {});
    if (!pending) return;
    pending.totpPending = r.pending;
    $('sf-uri').textContent = r.uri;
    $('sf-secret').textContent = r.secret;
    $('sf-enrol-code').focus();
  } catch {
    status.classList.add('error');
    status.textContent = state.t.unavailable;
  }
}

export async function submitTotpEnrolment(event: Event): Promise<void> {
  event.preventDefault();
  if (!pending?.totpPending) return;
  const input = $<HTMLInputElement>('sf-enrol-code');
  const code = input.value.trim();
  if (!code) return;
  const status = $('sf-enrol-status');
  status.classList.remove('error');
  const button = $<HTMLButtonElement>('sf-enrol-submit');
  button.disabled = true;
  try {
    const r = await api<{ recoveryCodes: string[]; login?: FullLoginJson }>('POST', '/api/v1/second-factor/totp/confirm', { pending: pending.totpPending, code });
    input.value = '';
    // The recovery codes are shown once, before anything else; the dashboard opens after.
    $('sf-enrol').hidden = true;
    showCodes(r.recoveryCodes, r.login);
  } catch (err) {
    status.classList.add('error');
    status.textContent = err instanceof ApiError && err.status === 401 ? state.t.sfWrong : state.t.unavailable;
  } finally {
    button.disabled = false;
  }
}

export function cancelSecondFactor(): void {
  hideSecondFactor();
  void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  $('login-passphrase').focus();
}

export function initSecondFactor(): void {
  $('sf-form').addEventListener('submit', (e) => void submitSecondFactor(e));
  $('sf-enrol').addEventListener('submit', (e) => void submitTotpEnrolment(e));
  $('sf-cancel').addEventListener('click', cancelSecondFactor);
  $('sf-enrol-cancel').addEventListener('click', cancelSecondFactor);
  $('sf-passkey').addEventListener('click', () => void signInWithPasskey());
  $('sf-enrol-passkey').addEventListener('click', () => void enrolPasskeyNow());
}
