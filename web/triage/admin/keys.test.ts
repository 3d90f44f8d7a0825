/**
 * The admin browser's team key rules without a page (web/triage/admin/keys.ts): it signs v2
 * statements, renews only the newest key it has seen, and re-wraps only to it. Each test
 * names the attack; the hostile-proxy suite (tests/adversarial/epochs.test.ts) runs the same
 * code in Chromium.
 */
import { describe, expect, it } from 'vitest';
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../../crypto/sodium.ts';
import { createRootKey, createX25519Key, signTeamKey } from '../../../crypto/v1/certs.ts';
import { unixHour } from '../../../crypto/v2/constants.ts';
import { signTeamKeyStatement, verifyTeamKeyStatement } from '../../../crypto/v2/team-key.ts';
import type { KeyFloorStore } from '../key-floor.ts';
import { KeyFreshnessError, renewTeamKey, teamKeyState } from './key-freshness.ts';
import { type AdminKeys, type AdminTeamJson, makeTeamKey, rewrapPage } from './keys.ts';

const p = await loadSodiumPrimitives();
const root = createRootKey(p);
const orgId = p.randomBytes(16);
const teamId = p.randomBytes(16);
const k: AdminKeys = { orgId, accountId: p.randomBytes(16), rootPublic: root.publicKey, rootSeed: root.seed, x25519Secret: p.randomBytes(32), ed25519Seed: p.randomBytes(32) };
const now = unixHour(Date.now());
const key1 = createX25519Key(p).publicKey;
const key2 = createX25519Key(p).publicKey;
const stmt = (epoch: number, serial: number, publicKey: Uint8Array, expiresHour = now + 1000, issuedHour = now - 10) =>
  b64(signTeamKeyStatement(p, root.seed, { orgId, teamId, epoch, serial, issuedHour, expiresHour, publicKey }));

function memoryFloors(start = 0): KeyFloorStore & { value: () => number } {
  let v = start;
  return { get: () => v, raise: (_o, _t, s) => void (v = Math.max(v, s)), value: () => v };
}

function team(epochs: { epoch: number; state: string; certificate: string }[], currentEpoch = Math.max(...epochs.map((e) => e.epoch))): AdminTeamJson {
  return {
    id: b64(teamId), slug: 'legal', name: 'Legal', position: 0, createdHour: '', currentEpoch, currentKey: null, currentEpochAgeDays: 0, rotationDue: false,
    staleMessages: 0, memberIds: [], epochs: epochs.map((e) => ({ ...e, createdHour: '' })), grants: [],
  };
}

describe('admin team keys', () => {
  it('signs a new key as a v2 statement with the given serial and verifies it before use', () => {
    const made = makeTeamKey(p, k, b64(teamId), 3, [], 7);
    const s = verifyTeamKeyStatement(p, root.publicKey, made.certificate, { orgId, teamId, epoch: 3, nowHour: now });
    expect([s.serial, s.publicKey]).toEqual([7, made.publicKey]);
    made.secretKey.fill(0);
  });

  it('judges the current key, remembers its serial, and asks for renewal of a v1 key or one near expiry', () => {
    const floors = memoryFloors();
    expect(teamKeyState(p, k, team([{ epoch: 1, state: 'current', certificate: stmt(1, 4, key1) }]), floors)).toMatchObject({ status: 'ok', serial: 4, nextSerial: 5 });
    expect(floors.value()).toBe(4);
    expect(teamKeyState(p, k, team([{ epoch: 1, state: 'current', certificate: stmt(1, 5, key1, now + 24) }]), floors).status).toBe('needs_renewal');
    const v1 = b64(signTeamKey(p, root.seed, { orgId, teamId, epoch: 1, publicKey: key1 }));
    expect(teamKeyState(p, k, team([{ epoch: 1, state: 'current', certificate: v1 }]), memoryFloors()).status).toBe('needs_renewal');
  });

  it('[rolled-back epoch] refuses to renew an older statement than it has seen (it would revive a retired key)', () => {
    const floors = memoryFloors(2);
    const replay = team([{ epoch: 1, state: 'current', certificate: stmt(1, 1, key1) }]);
    expect(teamKeyState(p, k, replay, floors).status).toBe('rolled_back');
    expect(() => renewTeamKey(p, k, replay, floors)).toThrow(KeyFreshnessError);
    // A v1 certificate offered as current after a v2 statement was seen: a downgrade, refused.
    const v1 = b64(signTeamKey(p, root.seed, { orgId, teamId, epoch: 1, publicKey: key1 }));
    expect(teamKeyState(p, k, team([{ epoch: 1, state: 'current', certificate: v1 }]), floors).status).toBe('rolled_back');
  });

  it('renews an expired current key with the same key and the next serial', () => {
    const floors = memoryFloors(3);
    const r = renewTeamKey(p, k, team([{ epoch: 2, state: 'current', certificate: stmt(2, 3, key2, now - 1, now - 100) }]), floors);
    const s = verifyTeamKeyStatement(p, root.publicKey, r.statement, { orgId, teamId, epoch: 2, nowHour: now, minSerial: 4 });
    expect([s.serial, s.publicKey]).toEqual([4, key2]);
  });

  it('[re-wrap to an old epoch] refuses a page whose current statement is older than the remembered serial, even if the epochs listed agree', () => {
    const page = { currentEpoch: 1, currentCertificate: stmt(1, 1, key1), epochs: [{ epoch: 1, state: 'current', certificate: stmt(1, 1, key1) }], grants: [], messages: [], remaining: 0, nextCursor: null };
    expect(() => rewrapPage(p, k, b64(teamId), page, memoryFloors(2))).toThrow(KeyFreshnessError);
    // and one naming an epoch older than the newest the admin's list showed
    expect(() => rewrapPage(p, k, b64(teamId), page, memoryFloors(0), 2)).toThrow(KeyFreshnessError);
    // and an expired one
    const expired = { ...page, currentCertificate: stmt(1, 5, key1, now - 1, now - 100) };
    expect(() => rewrapPage(p, k, b64(teamId), expired, memoryFloors(0))).toThrow(KeyFreshnessError);
    // the newest key is accepted (and remembered)
    const floors = memoryFloors(1);
    expect(rewrapPage(p, k, b64(teamId), { ...page, currentCertificate: stmt(1, 2, key1) }, floors)).toEqual({ messages: [], failed: 0 });
    expect(floors.value()).toBe(2);
  });
});
