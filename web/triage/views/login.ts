/**
 * Sign-in: the passphrase is stretched here into the login verifier and the key that unwraps
 * the account keys; the vault is opened from the root-signed certificate and team grants.
 *
 * A name that has had many wrong attempts is throttled, never locked: the salt answer then
 * carries a proof-of-work challenge, solved here before the attempt (a second or two). When
 * the server asks for a second factor, views/second-factor.ts takes over with the wrap key.
 */
import { base64urlDecode, base64urlEncode } from '../../../crypto/encoding.ts';
import { deriveAccountSecrets, unwrapAccountKeys } from '../../../crypto/v1/account.ts';
import { solvePowInBrowser } from '../../shared/pow-solver.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { openAdmin } from '../admin/screen.ts';
import { KeyError, openVault, type TeamsJson } from '../keys.ts';
import { RootChangedError, trustedRootFollowingHandovers, type RootHandovers, type TrustedRoot } from '../root-pin.ts';
import { DeploymentConfigError } from '../../shared/deployment.ts';
import { fill } from '../i18n.ts';
import { keyFloors } from '../key-floor.ts';
import { showKeyRefusals } from './key-refusals.ts';
import { $, alertError, api, ApiError, fillTeamFilter, primitives, show, state, wipe } from '../shell.ts';
import { loadRows } from './list.ts';
import { askSecondFactor, hideSecondFactor } from './second-factor.ts';
import { loadSecondFactorPolicy } from '../admin/second-factor-policy.ts';
import { keepWrapKey, openPasskeyWrap } from './passkey.ts';

interface AccountJson {
  id: string;
  username: string;
  role: string;
  status: string;
}

/** The server's answer that hands over the key bundle (a full session). */
export interface FullLoginJson {
  stage: 'full';
  account: AccountJson;
  keyBundle: string;
  certificate: string | null;
  /** The passphrase-only bundle is retired: only a passkey that holds a wrap opens the keys. */
  keysOnPasskeys?: boolean;
  /** After a passkey sign-in: which passkey, and its key wrap if it holds one. */
  passkey?: { credentialId: string; wrap: string | null };
}

/** The keys are on passkeys and this sign-in brought no passkey wrap (a recovery code). */
export class KeysOnPasskeysError extends Error {}

type LoginJson = FullLoginJson | { stage: 'second_factor' | 'enrol_second_factor'; account: AccountJson };

export async function submitLogin(event: Event): Promise<void> {
  event.preventDefault();
  alertError(null);
  hideSecondFactor();
  const status = $('login-status');
  status.classList.remove('error');
  const username = $<HTMLInputElement>('login-username').value.trim().toLowerCase();
  const pwInput = $<HTMLInputElement>('login-passphrase');
  const passphrase = pwInput.value;
  if (!username || !passphrase) return;
  pwInput.value = '';
  const button = $<HTMLButtonElement>('login-submit');
  button.disabled = true;
  status.textContent = state.t.signingIn;
  let secrets: { wrapKey: Uint8Array; loginVerifier: Uint8Array } | null = null;
  try {
    const p = await primitives();
    // The root from this page (pinned on first use), checked before anything is derived or
    // sent: with a changed root nothing is unlocked at all.
    // After a root rotation, the published hand-overs lead from the pinned root to the page's.
    const root = await trustedRootFollowingHandovers(p, fetchHandovers);
    const salt = await api<{ salt: string; params: { ops: number; memKiB: number }; challenge: string | null; effort: number | null }>('POST', '/api/v1/login/salt', { username });
    // deriveAccountSecrets refuses parameters below the floor (a server downgrading the cost).
    secrets = await deriveAccountSecrets(p, passphrase, base64urlDecode(salt.salt), salt.params);
    let pow: { challenge: string; effort: number; nonce: string } | undefined;
    if (salt.challenge) {
      // A throttled name (PROTOCOL.md 22.3): the shared v2 solver, at the effort the server asks.
      status.textContent = state.t.solvingProof;
      const solution = await solvePowInBrowser(base64urlDecode(salt.challenge), salt.effort ?? 0);
      pow = { challenge: salt.challenge, effort: solution.effort, nonce: base64urlEncode(solution.nonce) };
      status.textContent = state.t.signingIn;
    }
    const login = await api<LoginJson>('POST', '/api/v1/login', {
      username,
      verifier: base64urlEncode(secrets.loginVerifier),
      ...(pow ? { pow } : {}),
    });
    secrets.loginVerifier.fill(0);
    if (login.stage !== 'full') {
      status.textContent = '';
      // The wrap key now belongs to the second-factor step, which wipes it when done.
      const wrapKey = secrets.wrapKey;
      secrets = null;
      askSecondFactor(login.stage, wrapKey, root, base64urlDecode(login.account.id));
      return;
    }
    await openDashboard(p, secrets.wrapKey, root, login);
  } catch (err) {
    failLogin(status, err);
  } finally {
    secrets?.wrapKey.fill(0);
    secrets?.loginVerifier.fill(0);
    button.disabled = false;
  }
}

/** Shows why sign-in failed and leaves nothing open. */
export function failLogin(status: HTMLElement, err: unknown): void {
  if (state.vault) {
    wipe();
    show('login');
  }
  status.classList.add('error');
  status.textContent = loginError(err);
  // Best effort: a session opened before a key check failed is closed again.
  if (err instanceof KeyError || err instanceof KeysOnPasskeysError) void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
}

/**
 * Unwraps the account keys with `wrapKey` (the caller wipes it), opens the vault and shows
 * the requests. @throws KeyError, DecryptionError (wrong passphrase), ApiError.
 */
export async function openDashboard(
  p: Primitives, wrapKey: Uint8Array, root: TrustedRoot & { replacedFingerprint?: string }, login: FullLoginJson, prf: Uint8Array | null = null,
): Promise<void> {
  let unwrapped: ReturnType<typeof unwrapAccountKeys> | null = null;
  try {
    const accountId = base64urlDecode(login.account.id);
    // A passkey that holds a wrap: the passphrase's wrap key and the passkey's PRF output together.
    if (login.passkey?.wrap && prf) {
      unwrapped = openPasskeyWrap(p, wrapKey, prf, base64urlDecode(login.passkey.wrap), accountId, base64urlDecode(login.passkey.credentialId));
    } else if (login.keysOnPasskeys) {
      throw new KeysOnPasskeysError();
    } else {
      unwrapped = unwrapAccountKeys(p, wrapKey, base64urlDecode(login.keyBundle));
    }
    const teams = await api<TeamsJson>('GET', '/api/v1/teams');
    state.myCertificate = login.certificate ? base64urlDecode(login.certificate) : null;
    state.vault = openVault(p, unwrapped, accountId, state.myCertificate, teams, root, keyFloors());
    unwrapped = null; // now owned by the vault
    keepWrapKey(wrapKey);
    state.me = { id: login.account.id, username: login.account.username, role: login.account.role };
    hideSecondFactor();
    $('login-status').textContent = '';
    $('who').textContent = `${state.t.signedInAs} ${state.me.username}`;
    $('root-fp').textContent = `${state.t.rootFp} ${state.vault.rootFingerprint}`;
    if (root.replacedFingerprint) $('root-fp').textContent += ` ${fill(state.t.rootHandedOver, { old: root.replacedFingerprint })}`;
    fillTeamFilter();
    show('list');
    $('keys-warning').hidden = state.vault.rejected === 0;
    showKeyRefusals(state.vault);
    // An admin's browser opens the root seed now (in memory only, wiped with everything else),
    // started before the list loads: the Admin screen waits for it (admin/screen.ts showAdmin).
    const adminOpening = state.me.role === 'admin' ? openAdmin() : null;
    await loadRows(true);
    if (adminOpening) {
      await adminOpening;
      await loadSecondFactorPolicy();
    }
  } finally {
    unwrapped?.x25519Secret.fill(0);
    unwrapped?.ed25519Seed.fill(0);
  }
}

async function fetchHandovers(): Promise<RootHandovers> {
  const listed = await api<{ organisationId: string; handovers: string[] }>('GET', '/api/v1/root-handovers');
  return { organisationId: base64urlDecode(listed.organisationId), handovers: listed.handovers.map(base64urlDecode) };
}

function loginError(err: unknown): string {
  if (err instanceof RootChangedError) return fill(state.t.rootChanged, { old: err.oldFingerprint, new: err.newFingerprint });
  if (err instanceof KeysOnPasskeysError) return state.t.pkKeysOnPasskeys;
  if (err instanceof KeyError || err instanceof DeploymentConfigError) return state.t.keyProblem;
  if (err instanceof ApiError) {
    if (err.status === 401) return state.t.badLogin;
    if (err.status === 403) return state.t.pending;
    if (err.status === 429 || err.code === 'proof_required' || err.code === 'proof_invalid' || err.code === 'proof_replayed') return state.t.throttled;
    if (err.status === 0 || err.status >= 500) return state.t.unavailable;
  }
  // A bundle that does not open means a wrong passphrase (or a tampered bundle).
  return state.t.badLogin;
}
