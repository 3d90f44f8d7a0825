/** Version 1 of the Haven protocol (docs/PROTOCOL.md). */
export { VERSION, ObjectType, Personal, Kdf, RETIRED_VERSIONS } from './constants.ts';
export { seal, open, SEAL_OVERHEAD } from './seal.ts';
export {
  createRootKey, createX25519Key, rootFingerprint, accountFingerprint,
  signTeamKey, verifyTeamKey, parseTeamKeyCertUnverified, TEAM_KEY_CERT_BYTES,
  Role, signResponderCert, verifyResponderCert, parseResponderCertUnverified, RESPONDER_CERT_BYTES,
  createGrant, openGrant, GRANT_BYTES,
} from './certs.ts';
export type { TeamKeyFields, ResponderFields, RoleValue } from './certs.ts';
export {
  RESPONDER_DEFAULT_PARAMS, RESPONDER_MIN_PARAMS, ARGON2_MAX_PARAMS, checkArgon2Params,
  normalizeAccountPassphrase, deriveAccountSecrets, loginVerifierHash, fakeSalt, newAccountSalt,
  createAccountKeys, wrapAccountKeys, unwrapAccountKeys, parseAccountBundleHeader, ACCOUNT_BUNDLE_BYTES,
} from './account.ts';
export type { Argon2Params, AccountSecrets } from './account.ts';
export {
  REQUESTER_PARAM_SETS, CURRENT_REQUESTER_PARAM_SET, REQUESTER_MIN_PARAMS,
  normalizePassphrase, generatePassphrase, passphraseWordCount, uniformInt,
  requesterSalt, deriveRequesterKeys, lookupTokenHash,
} from './requester.ts';
export type { RequesterKeys } from './requester.ts';
export { bucketSizes, MAX_BODY_BYTES, pad, unpad } from './padding.ts';
export {
  MessageKind, RecipientKind, recipientsFor, allowedMessageSizes, MESSAGE_HEADER_BYTES,
  sealMessage, parseMessageHeader, openMessage, rewrapMessage,
} from './message.ts';
export type { MessageKindValue, RecipientKindValue, MessageHeader, SealMessageArgs, OpenMessageArgs } from './message.ts';
export { encodeRequestBody, decodeRequestBody, REQUEST_LIMITS } from './request-body.ts';
export type { RequestBody, AttachmentRef } from './request-body.ts';
export {
  ATTACHMENT_CHUNK_BYTES, attachmentBlobSize, newAttachmentKey, encryptAttachment, decryptAttachment,
} from './attachment.ts';
export { AUDIT_GENESIS_HASH, auditEntryHash, signAuditHash, verifyAuditHash } from './audit.ts';
export { encodeTextBody, decodeTextBody, encodeTagsBody, decodeTagsBody, TAG_LIMITS } from './text-body.ts';
