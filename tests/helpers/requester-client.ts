/**
 * What the requester page does, in Node: derive keys from a passphrase, seal and sign a request
 * or follow-up (protocol v2) to a team's verified intake key, solve the proof of work. Used by
 * API tests.
 */
import { MessageKind } from '../../crypto/v1/message.ts';
import { verifyCurrentTeamKey } from '../../crypto/team-key-any.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { solvePowV2Sync } from '../../crypto/v2/pow.ts';
import { nobleSha256 } from '../../crypto/noble.ts';
import { lookupTokenHash } from '../../crypto/v1/requester.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import { sealMessageV2, sealRequestV2 } from '../../crypto/v2/message.ts';
import { encodeRequestBodyV2 } from '../../crypto/v2/request-body.ts';
import { deriveRequesterKeysV2, type RequesterKeysV2 } from '../../crypto/v2/requester.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { base64urlEncode } from '../../crypto/encoding.ts';
import type { DemoOrganisation, DemoTeam } from '../../seeds/demo.ts';

export const TEST_ARGON = { ops: 1, memKiB: 8192 };

export type RequesterKeys = RequesterKeysV2;

export async function requesterKeys(p: Primitives, passphrase: string, orgId: Uint8Array): Promise<RequesterKeys> {
  return deriveRequesterKeysV2(p, passphrase, orgId, TEST_ARGON);
}

/** The v2 request body: carries the requester's signing key, which every follow-up must match. */
export function requestBody(message: string, keys: RequesterKeys, contact?: string): Uint8Array {
  return encodeRequestBodyV2({ message, ...(contact ? { contact } : {}), replyPublicKey: keys.replyPublic, argon: TEST_ARGON, signPublicKey: keys.signPublic });
}

/** A v2 request: position 0, signed by the requester's key. */
export function sealRequest(p: Primitives, org: DemoOrganisation, team: DemoTeam, keys: RequesterKeys, body: Uint8Array, id = p.randomBytes(16)): Uint8Array {
  return sealRequestV2(p, { orgId: org.organisationId, teamId: team.id, epoch: team.epoch, teamPublic: team.publicKey, id, requester: keys, body });
}

/**
 * A v2 follow-up signed by the requester at `position` (the thread's next one, as the lookup
 * answer's `nextPosition` says; 1 right after the request).
 */
export function sealFollowUp(
  p: Primitives, org: DemoOrganisation, team: DemoTeam, keys: RequesterKeys, threadId: Uint8Array, text: string, position = 1,
  messageId = p.randomBytes(16),
): Uint8Array {
  return sealMessageV2(p, {
    kind: MessageKind.followup,
    orgId: org.organisationId,
    teamId: team.id,
    epoch: team.epoch,
    threadId,
    messageId,
    position,
    teamPublic: team.publicKey,
    requesterPublic: keys.replyPublic,
    body: encodeTextBody(text),
    author: { type: 'requester', signSeed: keys.signSeed },
  });
}

export function verifyCertificate(p: Primitives, rootPublic: Uint8Array, org: DemoOrganisation, team: DemoTeam, certificate: Uint8Array) {
  return verifyCurrentTeamKey(p, rootPublic, certificate, { orgId: org.organisationId, teamId: team.id, nowHour: unixHour(Date.now()) });
}

/**
 * The `pow` field for a v2 challenge, solved at `effort` (8 by default: at or above the floor of
 * every test server, 256 hashes). `p` names the random source of the nonce's first bytes.
 */
export function proofFor(p: Primitives, challenge: Uint8Array, effort = 8) {
  const solution = solvePowV2Sync(nobleSha256, challenge, effort, p.randomBytes(4));
  return { challenge: base64urlEncode(challenge), effort: solution.effort, nonce: base64urlEncode(solution.nonce) };
}

export { lookupTokenHash };
