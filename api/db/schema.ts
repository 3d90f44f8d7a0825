/**
 * The one typed view of the database. Only repositories use it; services speak in domain
 * types. Byte columns arrive as Uint8Array (pg gives Buffer, a Uint8Array subclass).
 */
import type { ColumnType } from 'kysely';

/** An hour-truncated time: written by the app from `coarseHour()`, never `now()`. */
export type HourColumn = ColumnType<Date, Date, Date>;

export interface OrganisationsTable {
  id: Uint8Array;
  name: string;
  is_demo: boolean;
  created_hour: HourColumn;
}

export interface TeamsTable {
  id: Uint8Array;
  organisation_id: Uint8Array;
  slug: string;
  name: string;
  /** optional display names by page language (migrations/0011), e.g. {"ru": "..."}; plain text */
  display_names: ColumnType<Record<string, string>, string | undefined, string>;
  position: ColumnType<number, number | undefined, number>;
  created_hour: HourColumn;
  /** set when a member leaves, cleared by the next rotation (migration 0013) */
  rotation_required: ColumnType<boolean, boolean | undefined, boolean>;
}

export type EpochState = 'current' | 'retiring' | 'retired';

export interface TeamEpochsTable {
  team_id: Uint8Array;
  epoch: number;
  public_key: Uint8Array;
  certificate: Uint8Array;
  state: EpochState;
  created_hour: HourColumn;
}


export type RequestStatus = 'new' | 'triaged' | 'in_progress' | 'waiting' | 'resolved' | 'closed';
export type RequestPriority = 'low' | 'normal' | 'high' | 'urgent';
export type MessageKindName = 'request' | 'followup' | 'reply' | 'note' | 'tags';

export interface RequestsTable {
  id: Uint8Array;
  team_id: Uint8Array;
  epoch: number;
  lookup_hash: Uint8Array;
  status: ColumnType<RequestStatus, RequestStatus | undefined, RequestStatus>;
  priority: ColumnType<RequestPriority, RequestPriority | undefined, RequestPriority>;
  assignee_id: Uint8Array | null;
  created_hour: HourColumn;
  updated_hour: HourColumn;
  /** the organisation-wide activity counter at the latest change (bigint: the driver reads a string) (migration 0013) */
  activity: ColumnType<string, never, string>;
}

export interface RequestReadsTable {
  account_id: Uint8Array;
  request_id: Uint8Array;
  seen_activity: ColumnType<string, string | number, string | number>;
}

export interface MessagesTable {
  id: Uint8Array;
  request_id: Uint8Array;
  position: number;
  kind: MessageKindName;
  epoch: number;
  author_id: Uint8Array | null;
  blob: Uint8Array;
  created_hour: HourColumn;
}

export interface PowSpentTable {
  challenge_id: Uint8Array;
  expires_hour: HourColumn;
}

export interface Database {
  organisations: OrganisationsTable;
  teams: TeamsTable;
  team_epochs: TeamEpochsTable;
  requests: RequestsTable;
  messages: MessagesTable;
  pow_spent: PowSpentTable;
  accounts: AccountsTable;
  invitations: InvitationsTable;
  invitation_teams: InvitationTeamsTable;
  team_members: TeamMembersTable;
  grants: GrantsTable;
  sessions: SessionsTable;
  request_reads: RequestReadsTable;
  root_handovers: RootHandoversTable;
}

/** One per root rotation (migrations/0017): the signed hand-over, public and self-authenticating. */
export interface RootHandoversTable {
  serial: number;
  statement: Uint8Array;
}

export type AccountRole = 'responder' | 'admin';
export type AccountStatus = 'pending' | 'active' | 'removed';

/** A minute-truncated time (sessions only; see migration 0003). */
export type MinuteColumn = ColumnType<Date, Date, Date>;

export interface AccountsTable {
  id: Uint8Array;
  username: string;
  role: AccountRole;
  status: ColumnType<AccountStatus, AccountStatus | undefined, AccountStatus>;
  salt: Uint8Array;
  verifier_hash: Uint8Array;
  key_bundle: Uint8Array;
  enc_public_key: Uint8Array;
  sign_public_key: Uint8Array;
  certificate: Uint8Array | null;
  /** Sealed under the server key (migration 0012, api/accounts/totp.service.ts). */
  totp_secret: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  created_hour: HourColumn;
}

export interface InvitationsTable {
  code_hash: Uint8Array;
  role: AccountRole;
  expires_hour: HourColumn;
  used: ColumnType<boolean, boolean | undefined, boolean>;
  account_id: Uint8Array | null;
  created_hour: HourColumn;
  /** The v2 invitation statement (migration 0007); null for older invitations. */
  statement: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  inviter_id: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface InvitationTeamsTable {
  code_hash: Uint8Array;
  team_id: Uint8Array;
}

export interface TeamMembersTable {
  team_id: Uint8Array;
  account_id: Uint8Array;
}

export interface GrantsTable {
  team_id: Uint8Array;
  epoch: number;
  account_id: Uint8Array;
  sealed: Uint8Array;
}

export interface SessionsTable {
  token_hash: Uint8Array;
  account_id: Uint8Array;
  created_at: MinuteColumn;
  last_seen_at: MinuteColumn;
}

// ---- admin features (migration 0004). Declaration merging keeps this addition append-only.

export interface RootWrapsTable {
  account_id: Uint8Array;
  sealed: Uint8Array;
  created_hour: HourColumn;
}

export interface AuditLogTable {
  seq: number;
  actor_id: Uint8Array;
  entry: Uint8Array;
  prev_hash: Uint8Array;
  hash: Uint8Array;
  signature: Uint8Array;
}

export interface SettingsTable {
  id: number;
  closed_retention_days: ColumnType<number, number | undefined, number>;
}

export interface Database {
  root_wraps: RootWrapsTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
}

export interface SiteManifestSignaturesTable {
  site: 'requester' | 'triage';
  manifest_sha256: Uint8Array;
  signature: Uint8Array;
  created_hour: HourColumn;
}

export interface Database {
  site_manifest_signatures: SiteManifestSignaturesTable;
}

// ---- content-free notifications (migration 0016)

export interface NotificationSubscriptionsTable {
  account_id: Uint8Array;
  /** The address, sealed under a key derived from HAVEN_SERVER_SECRET (api/notifications/address-box.ts). */
  address_sealed: Uint8Array;
  pending: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface Database {
  notification_subscriptions: NotificationSubscriptionsTable;
}

// ---- second factors (migration 0012)

export type SessionStage = 'full' | 'second_factor' | 'enrol_second_factor';
export type SecondFactorPolicy = 'none' | 'any' | 'passkey';

export interface AccountsTable {
  /** Keyed hashes of the last accepted TOTP steps (up to three of 32 bytes). */
  totp_used: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface SessionsTable {
  stage: ColumnType<SessionStage, SessionStage | undefined, SessionStage>;
  second_factor_failures: ColumnType<number, number | undefined, number>;
}

export interface OrganisationsTable {
  second_factor_policy: ColumnType<SecondFactorPolicy, SecondFactorPolicy | undefined, SecondFactorPolicy>;
}

export interface RecoveryCodesTable {
  code_hash: Uint8Array;
  account_id: Uint8Array;
}

export interface Database {
  recovery_codes: RecoveryCodesTable;
}

/** Encrypted attachment blobs, each stored with the request that brought it (migrations/0019). */
export interface AttachmentsTable {
  id: Uint8Array;
  request_id: Uint8Array;
  blob: Uint8Array;
}


// ---- passkeys (migration 0018)

export type WebauthnPurpose = 'register' | 'authenticate';

export interface PasskeysTable {
  id: Uint8Array;
  account_id: Uint8Array;
  credential_id: Uint8Array;
  public_key: Uint8Array;
  counter: ColumnType<string | number, number, number>;
  transports: ColumnType<string, string | undefined, string>;
  prf_wrap: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  created_hour: HourColumn;
}

export interface SessionsTable {
  webauthn_challenge: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  webauthn_purpose: ColumnType<WebauthnPurpose | null, WebauthnPurpose | null | undefined, WebauthnPurpose | null>;
  webauthn_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface Database {
  attachments: AttachmentsTable;
  passkeys: PasskeysTable;
}
