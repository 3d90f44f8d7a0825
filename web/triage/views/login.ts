/**
 * Sign-in: the passphrase is stretched here into the login verifier and the key that unwraps
 * the account keys; the vault is opened from the root-signed certificate and team grants.
 */
import { base64urlDecode, base64urlEncode } from '../../../crypto/encoding.ts';
import { deriveAccountSecrets, unwrapAccountKeys } from '../../../crypto/v1/account.ts';
import { openAdmin } from '../admin/screen.ts';
import { KeyError, openVault, type TeamsJson } from '../keys.ts';
import { RootChangedError, trustedRootFollowingHandovers, type RootHandovers } from '../root-pin.ts';
import { DeploymentConfigError } from '../../shared/deployment.ts';
import { fill } from '../i18n.ts';
import { keyFloors } from '../key-floor.ts';
import { showKeyRefusals } from './key-refusals.ts';
import { $, alertError, api, ApiError, fillTeamFilter, primitives, show, state, wipe } from '../shell.ts';
import { loadRows } from './list.ts';

interface AccountJson {
  id: string;
  username: string;
  role: string;
  status: string;
}

export async function submitLogin(event: Event): Promise<void> {
  event.preventDefault();
  alertError(null);
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
  let unwrapped: ReturnType<typeof unwrapAccountKeys> | null = null;
  try {
    const p = await primitives();
    // The root from this page (pinned on first use), checked before anything is derived or
    // sent: with a changed root nothing is unlocked at all.
    // After a root rotation, the published hand-overs lead from the pinned root to the page's.
    const root = await trustedRootFollowingHandovers(p, fetchHandovers);
    const salt = await api<{ salt: string; params: { ops: number; memKiB: number } }>('POST', '/api/v1/login/salt', { username });
    // deriveAccountSecrets refuses parameters below the floor (a server downgrading the cost).
    secrets = await deriveAccountSecrets(p, passphrase, base64urlDecode(salt.salt), salt.params);
    const login = await api<{ account: AccountJson; keyBundle: string; certificate: string | null }>('POST', '/api/v1/login', {
      username,
      verifier: base64urlEncode(secrets.loginVerifier),
    });
    unwrapped = unwrapAccountKeys(p, secrets.wrapKey, base64urlDecode(login.keyBundle));
    const accountId = base64urlDecode(login.account.id);
    const teams = await api<TeamsJson>('GET', '/api/v1/teams');
    state.myCertificate = login.certificate ? base64urlDecode(login.certificate) : null;
    state.vault = openVault(p, unwrapped, accountId, state.myCertificate, teams, root, keyFloors());
    unwrapped = null; // now owned by the vault
    state.me = { id: login.account.id, username: login.account.username, role: login.account.role };
    status.textContent = '';
    $('who').textContent = `${state.t.signedInAs} ${state.me.username}`;
    $('root-fp').textContent = `${state.t.rootFp} ${state.vault.rootFingerprint}`;
    if (root.replacedFingerprint) $('root-fp').textContent += ` ${fill(state.t.rootHandedOver, { old: root.replacedFingerprint })}`;
    fillTeamFilter();
    show('list');
    $('keys-warning').hidden = state.vault.rejected === 0;
    showKeyRefusals(state.vault);
    await loadRows(true);
    // An admin's browser opens the root seed now (in memory only, wiped with everything else).
    if (state.me.role === 'admin') await openAdmin();
  } catch (err) {
    if (state.vault) {
      wipe();
      show('login');
    }
    status.classList.add('error');
    status.textContent = loginError(err);
    // Best effort: a session opened before a key check failed is closed again.
    if (err instanceof KeyError) void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  } finally {
    secrets?.wrapKey.fill(0);
    secrets?.loginVerifier.fill(0);
    unwrapped?.x25519Secret.fill(0);
    unwrapped?.ed25519Seed.fill(0);
    button.disabled = false;
  }
}

async function fetchHandovers(): Promise<RootHandovers> {
  const listed = await api<{ organisationId: string; handovers: string[] }>('GET', '/api/v1/root-handovers');
  return { organisationId: base64urlDecode(listed.organisationId), handovers: listed.handovers.map(base64urlDecode) };
}

function loginError(err: unknown): string {
  if (err instanceof RootChangedError) return fill(state.t.rootChanged, { old: err.oldFingerprint, new: err.newFingerprint });
  if (err instanceof KeyError || err instanceof DeploymentConfigError) return state.t.keyProblem;
  if (err instanceof ApiError) {
    if (err.status === 401) return state.t.badLogin;
    if (err.status === 403) return state.t.pending;
    if (err.status === 429) return state.t.throttled;
    if (err.status === 0 || err.status >= 500) return state.t.unavailable;
  }
  // A bundle that does not open means a wrong passphrase (or a tampered bundle).
  return state.t.badLogin;
}
