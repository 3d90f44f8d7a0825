/**
 * Enrolment from an invitation link: the passphrase is judged here (crypto/passphrase-policy.ts)
 * before any key is made; the account keys are made and wrapped in this browser, and only
 * their public halves and the wrapped bundle are sent.
 */
import { base64urlEncode } from '../../../crypto/encoding.ts';
import { assessPassphrase } from '../../../crypto/passphrase-policy.ts';
import { createAccountKeys, deriveAccountSecrets, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys } from '../../../crypto/v1/account.ts';
import { accountFingerprint } from '../../../crypto/v1/certs.ts';
import type { Strings } from '../i18n.ts';
import { $, api, ApiError, primitives, show, state } from '../shell.ts';

export function readInvitation(): string | null {
  const match = /^#invite=([A-Za-z0-9_-]{16,64})$/.exec(location.hash);
  if (location.hash.startsWith('#invite')) {
    // The code must not linger in the address bar or history.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return match ? match[1]! : location.hash.startsWith('#invite') ? '' : null;
}

export function updateStrength(): void {
  const pw = $<HTMLInputElement>('enrol-passphrase').value;
  const confirm = $<HTMLInputElement>('enrol-confirm').value;
  const verdict = assessPassphrase(pw, $<HTMLInputElement>('enrol-username').value, confirm === '' ? undefined : confirm);
  $<HTMLMeterElement>('strength-meter').value = verdict.score;
  $('strength-text').textContent = state.t[`strength${verdict.score}` as keyof Strings];
  const list = $('problems');
  list.replaceChildren();
  if (pw === '') return;
  for (const problem of verdict.problems) {
    const li = document.createElement('li');
    li.textContent = state.t[`p_${problem}` as keyof Strings];
    list.append(li);
  }
}

const USERNAME = /^[a-z0-9._-]{3,40}$/;

export async function submitEnrol(event: Event): Promise<void> {
  event.preventDefault();
  const status = $('enrol-status');
  status.classList.remove('error');
  const username = $<HTMLInputElement>('enrol-username').value.trim().toLowerCase();
  const pwInput = $<HTMLInputElement>('enrol-passphrase');
  const confirmInput = $<HTMLInputElement>('enrol-confirm');
  if (!state.inviteCode) {
    status.textContent = state.t.noInvite;
    status.classList.add('error');
    return;
  }
  if (!USERNAME.test(username)) {
    status.textContent = state.t.badUsername;
    status.classList.add('error');
    $('enrol-username').focus();
    return;
  }
  const verdict = assessPassphrase(pwInput.value, username, confirmInput.value);
  if (!verdict.ok) {
    updateStrength();
    status.textContent = verdict.problems.map((x) => state.t[`p_${x}` as keyof Strings]).join(' ');
    status.classList.add('error');
    pwInput.focus();
    return;
  }
  const button = $<HTMLButtonElement>('enrol-submit');
  button.disabled = true;
  status.textContent = state.t.makingKeys;
  const passphrase = pwInput.value;
  pwInput.value = '';
  confirmInput.value = '';
  updateStrength();
  const p = await primitives();
  const keys = createAccountKeys(p);
  const salt = newAccountSalt(p);
  let secrets: { wrapKey: Uint8Array; loginVerifier: Uint8Array } | null = null;
  try {
    secrets = await deriveAccountSecrets(p, passphrase, salt, RESPONDER_DEFAULT_PARAMS);
    const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params: RESPONDER_DEFAULT_PARAMS, ...keys });
    const encPublicKey = p.x25519PublicFromSecret(keys.x25519Secret);
    const signPublicKey = p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey;
    await api('POST', '/api/v1/enrol', {
      invitationCode: state.inviteCode,
      username,
      keyBundle: base64urlEncode(keyBundle),
      salt: base64urlEncode(salt),
      encPublicKey: base64urlEncode(encPublicKey),
      signPublicKey: base64urlEncode(signPublicKey),
      loginVerifier: base64urlEncode(secrets.loginVerifier),
    });
    state.inviteCode = null;
    status.textContent = '';
    $('fingerprint').textContent = accountFingerprint(p, encPublicKey, signPublicKey);
    $<HTMLInputElement>('login-username').value = username;
    show('waiting');
  } catch (err) {
    status.classList.add('error');
    if (err instanceof ApiError && err.status === 403) status.textContent = state.t.inviteUsed;
    else if (err instanceof ApiError && err.status === 409) status.textContent = state.t.nameTaken;
    else status.textContent = state.t.enrolFailed;
  } finally {
    keys.x25519Secret.fill(0);
    keys.ed25519Seed.fill(0);
    secrets?.wrapKey.fill(0);
    secrets?.loginVerifier.fill(0);
    button.disabled = false;
  }
}
