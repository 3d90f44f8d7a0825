/**
 * Team keys of both versions: which one a client may encrypt to now, and which one only proves
 * an old epoch's key (crypto/team-key-any.ts).
 */
import { describe, expect, it } from 'vitest';
import { ExpiredStatementError, RolledBackError, SignatureError, UnknownVersionError } from './errors.ts';
import { loadSodiumPrimitives } from './sodium.ts';
import { teamKeyVersion, verifyCurrentTeamKey, verifyHistoricTeamKey } from './team-key-any.ts';
import { createRootKey, createX25519Key, signTeamKey } from './v1/certs.ts';
import { unixHour } from './v2/constants.ts';
import { signTeamKeyStatement } from './v2/team-key.ts';

const p = await loadSodiumPrimitives();
const root = createRootKey(p);
const orgId = p.randomBytes(16);
const teamId = p.randomBytes(16);
const key = createX25519Key(p).publicKey;
const nowHour = unixHour(Date.now());
const v1cert = signTeamKey(p, root.seed, { orgId, teamId, epoch: 1, publicKey: key });
const stmt = (serial: number, issuedHour: number, expiresHour: number, epoch = 2) =>
  signTeamKeyStatement(p, root.seed, { orgId, teamId, epoch, serial, issuedHour, expiresHour, publicKey: key });

describe('team keys of either version', () => {
  it('tells the version by byte 0 and refuses an unknown one', () => {
    expect(teamKeyVersion(v1cert)).toBe(1);
    expect(teamKeyVersion(stmt(3, nowHour, nowHour + 10))).toBe(2);
    expect(() => teamKeyVersion(Uint8Array.of(9, 0x10))).toThrow(UnknownVersionError);
  });

  it('accepts a valid v2 statement at or above the remembered serial as current', () => {
    const k = verifyCurrentTeamKey(p, root.publicKey, stmt(3, nowHour, nowHour + 10), { orgId, teamId, epoch: 2, nowHour, minSerial: 3 });
    expect(k).toMatchObject({ version: 2, epoch: 2, serial: 3, expiresHour: nowHour + 10 });
  });

  it('refuses a rolled-back statement (serial below what this client has seen)', () => {
    expect(() => verifyCurrentTeamKey(p, root.publicKey, stmt(3, nowHour, nowHour + 10), { orgId, teamId, nowHour, minSerial: 4 })).toThrow(RolledBackError);
  });

  it('refuses an expired statement as current, but still proves that old epoch key for history', () => {
    const old = stmt(2, nowHour - 100, nowHour - 1);
    expect(() => verifyCurrentTeamKey(p, root.publicKey, old, { orgId, teamId, nowHour })).toThrow(ExpiredStatementError);
    expect(verifyHistoricTeamKey(p, root.publicKey, old, { orgId, teamId, epoch: 2 }).serial).toBe(2);
  });

  it('refuses a v1 certificate as current once a v2 statement of the team was seen (downgrade)', () => {
    expect(verifyCurrentTeamKey(p, root.publicKey, v1cert, { orgId, teamId, nowHour, minSerial: 0 })).toMatchObject({ version: 1, serial: 0 });
    expect(() => verifyCurrentTeamKey(p, root.publicKey, v1cert, { orgId, teamId, nowHour, minSerial: 1 })).toThrow(RolledBackError);
    expect(verifyHistoricTeamKey(p, root.publicKey, v1cert, { orgId, teamId, epoch: 1 }).version).toBe(1);
  });

  it('still checks signature and names for history', () => {
    const other = createRootKey(p);
    expect(() => verifyHistoricTeamKey(p, other.publicKey, stmt(2, nowHour - 100, nowHour - 1), { orgId, teamId })).toThrow(SignatureError);
    expect(() => verifyHistoricTeamKey(p, root.publicKey, stmt(2, nowHour - 100, nowHour - 1), { orgId, teamId, epoch: 3 })).toThrow(SignatureError);
    expect(() => verifyHistoricTeamKey(p, root.publicKey, v1cert, { orgId, teamId: p.randomBytes(16) })).toThrow(SignatureError);
  });
});
