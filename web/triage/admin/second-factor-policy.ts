/**
 * The admin's form for the organisation's second-factor policy (PROTOCOL 22.12): not required,
 * required for every account (TOTP or a passkey), or a passkey required; an account without
 * what the policy asks for sets it up at its next sign-in.
 * The server enforces it; this form only reads and sets it, with an audit entry.
 */
import { $, audited, deps, t } from './shared.ts';

export async function loadSecondFactorPolicy(): Promise<void> {
  try {
    const r = await deps.api<{ policy: string }>('GET', '/api/v1/second-factor');
    $<HTMLSelectElement>('adm-2fa-policy').value = r.policy;
  } catch {
    // The rest of the admin screen works without it; saving still sets it.
  }
}

export async function saveSecondFactorPolicy(event: Event): Promise<void> {
  event.preventDefault();
  const status = $('adm-2fa-status');
  status.classList.remove('error');
  const policy = $<HTMLSelectElement>('adm-2fa-policy').value;
  try {
    // Signed into the audit log by this admin's key, like every admin change (PROTOCOL 24.1).
    await audited('PUT', '/second-factor-policy', 'second_factor.policy', { policy }, (audit) => ({ policy, audit }));
    status.textContent = policy === 'none' ? t().adm2faSavedNone : policy === 'passkey' ? t().adm2faSavedPasskey : t().adm2faSavedAny;
  } catch {
    status.classList.add('error');
    status.textContent = t().unavailable;
  }
}

export function initSecondFactorPolicy(): void {
  $('adm-2fa-form').addEventListener('submit', (e) => void saveSecondFactorPolicy(e));
}
