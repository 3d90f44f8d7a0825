/**
 * What the requester page does, in Node: derive keys from a passphrase, seal a request or
 * follow-up to a team's verified intake key, solve the proof of work. Used by API tests.
 */
import { verifyCurrentTeamKey } from '../../crypto/team-key-any.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { MessageKind, sealMessage } from '../../crypto/v1/message.ts';
import { solvePow } from '../../crypto/v1/pow.ts';
import { encodeRequestBody } from '../../crypto/v1/request-body.ts';
import { deriveRequesterKeys, lookupTokenHash, type RequesterKeys } from '../../crypto/v1/requester.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import type { DemoOrganisation, DemoTeam } from '../../seeds/demo.ts';

export const TEST_ARGON = { ops: 1, memKiB: 8192 };

export async function requesterKeys(p: Primitives, passphrase: string, orgId: Uint8Array): Promise<RequesterKeys> {
  return deriveRequesterKeys(p, passphrase, orgId, TEST_ARGON);
}

export function requestBody(message: string, keys: RequesterKeys, contact?: string): Uint8Array {
  return encodeRequestBody({ message, ...(contact ? { contact } : {}), replyPublicKey: keys.replyPublic, argon: TEST_ARGON });
}

export function sealRequest(p: Primitives, org: DemoOrganisation, team: DemoTeam, keys: RequesterKeys, body: Uint8Array, id = p.randomBytes(16)): Uint8Array {
  return sealMessage(p, {
    kind: MessageKind.request,
    orgId: org.organisationId,
    teamId: team.id,
    epoch: team.epoch,
    threadId: id,
    messageId: id,
    teamPublic: team.publicKey,
    requesterPublic: keys.replyPublic,
    body,
  });
}

export function sealFollowUp(p: Primitives, org: DemoOrganisation, team: DemoTeam, keys: RequesterKeys, threadId: Uint8Array, text: string): Uint8Array {
  return sealMessage(p, {
    kind: MessageKind.followup,
    orgId: org.organisationId,
    teamId: team.id,
    epoch: team.epoch,
    threadId,
    messageId: p.randomBytes(16),
    teamPublic: team.publicKey,
    requesterPublic: keys.replyPublic,
    body: encodeTextBody(text),
  });
}

export function verifyCertificate(p: Primitives, rootPublic: Uint8Array, org: DemoOrganisation, team: DemoTeam, certificate: Uint8Array) {
  return verifyCurrentTeamKey(p, rootPublic, certificate, { orgId: org.organisationId, teamId: team.id, nowHour: unixHour(Date.now()) });
}

export function proofFor(p: Primitives, challenge: Uint8Array) {
  return { challenge: base64urlEncode(challenge), nonce: base64urlEncode(solvePow(p, challenge)) };
}

export { lookupTokenHash };
