/**
 * Version 2 of the Haven protocol (the v2 plan, issue 11): nothing the server sends can make a
 * browser trust the wrong key or the wrong author. Unchanged from v1 and still imported from
 * crypto/v1: the sealed box, padding, responder certificates (0x11), grants, accounts,
 * attachments, proof of work, and the audit hash itself.
 *
 * Every name here is distinct from v1's so both can be re-exported from crypto/index.ts.
 */
export {
  VERSION_V2, ObjectTypeV2, PersonalV2, KdfV2, CLOCK_SKEW_HOURS, unixHour, checkVersionV2,
} from './constants.ts';
export {
  TEAM_KEY_STATEMENT_BYTES, TEAM_KEY_DEFAULT_LIFETIME_HOURS, TEAM_KEY_MAX_LIFETIME_HOURS,
  signTeamKeyStatement, parseTeamKeyStatementUnverified, verifyTeamKeyStatement,
} from './team-key.ts';
export type { TeamKeyStatementFields, TeamKeyExpectation } from './team-key.ts';
export {
  INVITE_CODE_BYTES, INVITATION_MAX_TEAMS, invitationIdFromCode, signInvitation, createInvitation,
  parseInvitationUnverified, verifyInvitation,
} from './invitation.ts';
export type { InvitationFields } from './invitation.ts';
export {
  MESSAGE_V2_HEADER_BYTES, AuthorType, authorTypeFor, allowedMessageSizesV2,
  sealMessageV2, sealRequestV2, parseMessageHeaderV2, openMessageV2, rewrapMessageV2,
} from './message.ts';
export type {
  AuthorTypeValue, MessageHeaderV2, MessageAuthor, SealMessageV2Args, SealRequestV2Args, OpenMessageV2Args, VerifiedAuthor, OpenedMessageV2,
} from './message.ts';
export { deriveRequesterKeysV2 } from './requester.ts';
export type { RequesterKeysV2 } from './requester.ts';
export { encodeRequestBodyV2, decodeRequestBodyV2 } from './request-body.ts';
export type { RequestBodyV2 } from './request-body.ts';
export { verifyAuditChain } from './audit.ts';
export type { AuditChainEntry, AuditChainResult } from './audit.ts';
export {
  POW_V2_TYPE, POW_V2_CHALLENGE_BYTES, POW_V2_NONCE_BYTES, POW_V2_MAX_EFFORT, POW_V2_DOMAIN, POW_V2_WORK_INPUT_BYTES,
  powMacKeyV2, createPowChallengeV2, parsePowChallengeV2, verifyPowChallengeV2, powWorkInputV2, checkPowSolutionV2, solvePowV2, solvePowV2Sync,
} from './pow.ts';
export type { Sha256, Sha256Batch, PowChallengeV2, PowSolutionV2, SolveOptions } from './pow.ts';
export {
  ROOT_HANDOVER_BYTES, ROOT_HANDOVER_MAX_CHAIN, signRootHandover, parseRootHandoverUnverified, verifyRootHandover, followRootChain,
} from './root-handover.ts';
export type { RootHandoverFields, RootChainArgs } from './root-handover.ts';
export { buildRootRotation } from './root-rotation.ts';
export type { RootRotationArgs, RootRotationUpload, RotationAccountInput, RotationEpochInput } from './root-rotation.ts';
