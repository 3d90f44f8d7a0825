/**
 * The audit log, verified in this browser against the root-certified keys of its actors, and
 * the retention setting (its changes are audited too).
 */
import { fill, type Strings } from '../i18n.ts';
import { render } from './screen.ts';
import { $, accountName, admin, audited, deps, el, loadAudit, status, t } from './shared.ts';

export function renderRetention(): void {
  const input = $<HTMLInputElement>('adm-retention');
  if (admin.retentionDays !== null && document.activeElement !== input) input.value = String(admin.retentionDays);
  $('adm-retention-now').textContent = admin.retentionDays === null ? '' : fill(t().admRetentionNow, { n: admin.retentionDays });
}

function targetText(targets: Record<string, unknown>): string {
  return Object.entries(targets)
    .map(([k, v]) => {
      const name = (id: unknown) => (typeof id !== 'string' ? String(id) : admin.accounts.find((a) => a.id === id)?.username ?? admin.teams.find((x) => x.id === id)?.name ?? id);
      return `${k}=${Array.isArray(v) ? `[${v.map(name).join(', ')}]` : name(v)}`;
    })
    .join(' ');
}

export function renderAudit(): void {
  const s = t();
  const result = $('adm-audit-result');
  result.classList.remove('error', 'ok');
  if (admin.verdict === null) result.textContent = '';
  else if (admin.verdict.ok) {
    result.classList.add('ok');
    result.textContent = fill(s.admAuditOk, { n: admin.verdict.count, head: admin.verdict.head ? admin.verdict.head.slice(0, 16) : '-' });
  } else {
    result.classList.add('error');
    result.textContent = fill(s.admAuditBroken, { seq: admin.verdict.seq, why: s[`fault_${admin.verdict.fault}` as keyof Strings] ?? admin.verdict.fault });
  }
  const broken = admin.verdict && !admin.verdict.ok ? admin.verdict.seq : null;
  $('adm-audit').replaceChildren(
    ...[...admin.auditEntries].reverse().map((e) => {
      const li = el('li');
      li.dataset.seq = String(e.seq);
      let parsed: { action?: unknown; hour?: unknown; targets?: unknown } = {};
      try {
        parsed = JSON.parse(e.entryText) as typeof parsed;
      } catch {
        // Shown as unreadable below; the verdict names the fault.
      }
      const action = typeof parsed.action === 'string' ? parsed.action : '?';
      const hour = typeof parsed.hour === 'string' ? deps.hourText(parsed.hour) : '?';
      const targets = parsed.targets && typeof parsed.targets === 'object' ? targetText(parsed.targets as Record<string, unknown>) : '';
      li.append(
        el('span', { cls: 'seq', text: `#${e.seq}` }), ' ',
        el('span', { text: `${hour} · ${s[`a_${action.replace(/\./g, '_')}` as keyof Strings] ?? action} · ${accountName(e.actorId)}` }),
        el('span', { cls: 'hint block', text: targets }),
      );
      if (broken === e.seq) {
        li.classList.add('broken');
        li.prepend(el('strong', { text: `${s.admBrokenHere} ` }));
      }
      return li;
    }),
  );
}

export async function saveRetention(): Promise<void> {
  const days = Number($<HTMLInputElement>('adm-retention').value);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    status(t().admRetentionInvalid, true);
    $('adm-retention').focus();
    return;
  }
  const res = await audited<{ closedRetentionDays: number }>('PUT', '/retention', 'retention.set', { closedRetentionDays: days }, (audit) => ({ closedRetentionDays: days, audit }));
  admin.retentionDays = res.closedRetentionDays;
  await loadAudit();
  render();
  status(fill(t().admRetentionSaved, { n: days }));
}
