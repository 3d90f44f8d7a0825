/**
 * Says, by team, which current keys this browser refused and why (web/triage/keys.ts
 * openVault): a key older than one already seen is the sign of a server replaying a retired
 * key, and the person reading must know to tell an admin rather than just see "no key".
 */
import { fill } from '../i18n.ts';
import type { Vault } from '../keys.ts';
import { $, state } from '../shell.ts';

export function showKeyRefusals(vault: Vault | null): void {
  const list = $('key-refusals');
  const refused = vault?.refusedTeams ?? [];
  list.replaceChildren(
    ...refused.map((r) => {
      const li = document.createElement('li');
      const template = r.reason === 'rolled_back' ? state.t.keyRolledBack : r.reason === 'expired_statement' ? state.t.keyExpired : state.t.keyNotYetValid;
      li.textContent = fill(template, { team: r.name });
      return li;
    }),
  );
  list.hidden = refused.length === 0;
}
