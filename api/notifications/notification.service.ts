/**
 * A responder's opt-in: set, read and clear the one address content-free notifications go
 * to, and (for admins) who opted in. The address is sealed at rest (address-box.ts); the
 * owner gets it back so the dashboard can show which one is set, nobody else ever does.
 */
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database } from '../db/schema.ts';
import type { Account } from '../accounts/account.service.ts';
import { UnavailableError, ValidationError } from '../errors.ts';
import { AddressBoxError, addressKey, openAddress, sealAddress } from './address-box.ts';
import * as repo from './notification.repository.ts';

export const MAX_ADDRESS_LENGTH = 254;

export interface NotificationStatus {
  /** Whether this deployment sends notifications at all (HAVEN_SMTP_URL is set). */
  available: boolean;
  /** The caller's own address, or null when not opted in. */
  address: string | null;
}

/**
 * A plain `local@domain.tld`: no display name, no comments, no second address, no line
 * break, nothing an SMTP header or command could be split on.
 * @throws ValidationError
 */
export function normalizeAddress(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('Field "address" is required (a string).');
  const address = value.trim();
  if (address.length < 5 || address.length > MAX_ADDRESS_LENGTH || !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(address)) {
    throw new ValidationError('Field "address" must be one e-mail address such as name@example.org.');
  }
  return address;
}

export class NotificationService {
  readonly #key: Uint8Array;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    serverSecret: Uint8Array,
    private readonly available: boolean,
  ) {
    this.#key = addressKey(crypto, serverSecret);
  }

  /** The caller's own setting. An address that no longer opens (the secret changed) reads as unset. */
  async status(account: Account): Promise<NotificationStatus> {
    const found = await repo.findSubscription(this.db, account.id);
    let address: string | null = null;
    if (found) {
      try {
        address = openAddress(this.crypto, this.#key, account.id, found.addressSealed);
      } catch (err) {
        if (!(err instanceof AddressBoxError)) throw err;
      }
    }
    return { available: this.available, address };
  }

  /** @throws ValidationError for a malformed address, UnavailableError when no SMTP server is configured. */
  async subscribe(account: Account, addressInput: unknown): Promise<NotificationStatus> {
    const address = normalizeAddress(addressInput);
    if (!this.available) throw new UnavailableError('This deployment sends no e-mail notifications (no SMTP server is configured).', 3600);
    await repo.upsertSubscription(this.db, account.id, sealAddress(this.crypto, this.#key, account.id, address));
    return { available: true, address };
  }

  /** Idempotent: clearing an unset address is not an error. */
  async unsubscribe(account: Account): Promise<void> {
    await repo.deleteSubscription(this.db, account.id);
  }

  /** Who opted in, by name; never their addresses. */
  subscribers(): Promise<{ id: Uint8Array; username: string }[]> {
    return repo.listSubscribers(this.db);
  }
}
