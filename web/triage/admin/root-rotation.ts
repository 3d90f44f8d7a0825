/**
 * Root key rotation, the ceremony in the admin's browser (docs/PROTOCOL.md 14.6): when an admin
 * who held the root seed leaves, or on a schedule. A new root is made HERE; every active
 * account whose certificate verifies against the pinned root is shown with its fingerprint, and
 * only after the admin confirms that they compared them is anything signed; then the hand-over,
 * the new certificates and key statements, and the new seed wrapped for every admin go up in
 * one audited request (crypto/v2/root-rotation.ts builds it). The server swaps them in one
 * transaction and serves pages with the new root; pinned dashboards follow the hand-over.
 *
 * Threats: a server that lists an account with keys of its own (each certificate is checked
 * against the pinned root and the admin compares fingerprints); a server that hides an account
 * (the server refuses an upload that does not cover every active account, so nobody is locked
 * out silently); a removed admin who kept the old seed (cut off: nothing old-root-signed is
 * accepted afterwards). The new seed lives in memory only and is zero-filled after the upload.
 */
import { CryptoError } from '../../../crypto/errors.ts';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { verifyHistoricTeamKey } from '../../../crypto/team-key-any.ts';
import { rootFingerprint, verifyResponderCert, type RoleValue } from '../../../crypto/v1/certs.ts';
import { unixHour } from '../../../crypto/v2/constants.ts';
import { parseRootHandoverUnverified } from '../../../crypto/v2/root-handover.ts';
import { buildRootRotation, type RotationAccountInput, type RotationEpochInput } from '../../../crypto/v2/root-rotation.ts';
import { fill } from '../i18n.ts';
import { keyFloors } from '../key-floor.ts';
import { AdminKeyError } from './keys.ts';
import { orgKey } from './key-freshness.ts';
import { $, admin, audited, confirmDialog, deps, el, fingerprintLine, loadAccountsAndTeams, t } from './shared.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** What the ceremony signs for, as this browser verified it. @throws AdminKeyError when a listed certificate or key does not verify. */
function verifiedState(): { accounts: (RotationAccountInput & { username: string; fingerprint: string })[]; epochs: RotationEpochInput[]; floors: Map<string, number> } {
  const p = admin.sodium!;
  const k = admin.keys!;
  const accounts = admin.accounts.filter((a) => a.status === 'active').map((a) => {
    try {
      const c = verifyResponderCert(p, k.rootPublic, unb64(a.certificate ?? ''), { orgId: k.orgId, accountId: unb64(a.id) });
      return { accountId: c.accountId, role: c.role as RoleValue, x25519Public: c.x25519Public, ed25519Public: c.ed25519Public, username: a.username, fingerprint: a.fingerprint };
    } catch (err) {
      if (err instanceof CryptoError) throw new AdminKeyError('certificate');
      throw err;
    }
  });
  const floors = new Map<string, number>();
  const epochs: RotationEpochInput[] = [];
  const remembered = keyFloors();
  for (const team of admin.teams) {
    const teamId = unb64(team.id);
    let floor = remembered.get(orgKey(k), team.id);
    for (const e of team.epochs) {
      let key;
      try {
        key = verifyHistoricTeamKey(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId });
      } catch (err) {
        if (err instanceof CryptoError) throw new AdminKeyError('certificate');
        throw err;
      }
      floor = Math.max(floor, key.serial ?? 0);
      if (e.state !== 'retired') epochs.push({ teamId, epoch: e.epoch, current: e.state === 'current', publicKey: key.publicKey });
    }
    floors.set(hex(teamId), floor);
  }
  return { accounts, epochs, floors };
}

export async function rotateRoot(): Promise<void> {
  if (!admin.keys || !admin.sodium) throw new AdminKeyError('root');
  const p = admin.sodium;
  const s = t();
  await loadAccountsAndTeams();
  const state = verifiedState();
  const listed = await deps.api<{ handovers: string[] }>('GET', '/api/v1/root-handovers');
  const serial = Math.max(0, ...listed.handovers.map((h) => parseRootHandoverUnverified(unb64(h)).serial)) + 1;
  const newSeed = p.randomBytes(32);
  try {
    const newFingerprint = rootFingerprint(p, p.ed25519KeypairFromSeed(newSeed).publicKey);
    const list = el('ul', { cls: 'grant-list' });
    for (const a of state.accounts) list.append(el('li', {}, `${a.username}: `, el('code', { cls: 'fingerprint', text: a.fingerprint })));
    const ok = await confirmDialog({
      title: s.admRootRotateTitle,
      body: [el('p', { text: s.admRootRotateIntro }), fingerprintLine(s.admRootRotateNewFp, newFingerprint), el('p', { text: fill(s.admRootRotateAccounts, { n: state.accounts.length }) }), list],
      check: s.admRootRotateCheck,
      ok: s.admRootRotateOk,
    });
    if (!ok || !admin.keys) return;
    const upload = buildRootRotation(p, {
      orgId: admin.keys.orgId, oldRootSeed: admin.keys.rootSeed, newRootSeed: newSeed, handoverSerial: serial, nowHour: unixHour(Date.now()),
      accounts: state.accounts, epochs: state.epochs, teamSerialFloors: state.floors,
    });
    $('adm-root-rotation-status').textContent = s.admRootRotating;
    await audited('POST', '/root-rotation', 'root.rotate', { serial, newRoot: b64(upload.newRootPublic) }, (audit) => ({
      handover: b64(upload.handover),
      certificates: upload.certificates.map((c) => ({ accountId: b64(c.accountId), certificate: b64(c.certificate) })),
      teamKeys: upload.teamKeys.map((x) => ({ teamId: b64(x.teamId), epoch: x.epoch, statement: b64(x.statement) })),
      rootWraps: upload.rootWraps.map((w) => ({ accountId: b64(w.accountId), sealed: b64(w.sealed) })),
      audit,
    }));
    // This page still embeds the old root: everything from here on needs the new page.
    $('adm-root-rotation-status').textContent = fill(s.admRootRotated, { fp: newFingerprint });
    deps.announce(fill(s.admRootRotated, { fp: newFingerprint }));
  } finally {
    newSeed.fill(0);
  }
}
