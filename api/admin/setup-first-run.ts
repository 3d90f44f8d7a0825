/**
 * The first run in the browser: `npm start` on a database with no organisation and no
 * configured root key makes a one-time token (setup-token.ts) and prints the setup link;
 * POST /api/v1/setup with that token stores the browser-made organisation
 * (setup-browser.service.ts) and then tells the server (`onSetUp`) to persist the root
 * public key where deployment configuration reads it and to re-render both pages with it, so
 * the requester page takes requests without a restart.
 */
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database } from '../db/schema.ts';
import { AlreadySetUpError, ConflictError, ForbiddenError, SetupLinkWrongError } from '../errors.ts';
import * as repo from './admin.repository.ts';
import { checkBrowserSetup, storeBrowserSetup, type BrowserSetupInput, type BrowserSetupResult } from './setup-browser.service.ts';
import type { SetupToken } from './setup-token.ts';

const NO_LINK = 'This server offers no setup link: a root public key is configured. Use `npm run setup` (docs/DEPLOY.md, section 5).';

export interface SetUpOutcome {
  /** Where the root public key was written, or null when it could not be (then it must be set by hand). */
  rootKeyFile: string | null;
}

export class FirstRun {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly p: Primitives,
    /** Null when this server offered no link (already set up, or a root key is configured). */
    private readonly token: SetupToken | null,
    private readonly onSetUp: (result: BrowserSetupResult) => Promise<SetUpOutcome>,
  ) {}

  /** Whether this server still offers a first-run setup (its link not spent). */
  get open(): boolean {
    return this.token !== null && !this.token.spent;
  }

  /**
   * The answer a request gets before its body is read further: a dead link says so
   * (already_set_up), a wrong token is refused (forbidden), whatever else the body holds.
   * @throws like `setup`.
   */
  async precheck(presented: string): Promise<void> {
    if (this.token === null || this.token.spent) {
      if ((await repo.findOrganisationId(this.db)) !== null) throw new AlreadySetUpError();
    }
    if (this.token === null) throw new ForbiddenError(NO_LINK);
    if (!this.token.matches(presented)) throw new SetupLinkWrongError();
    if (this.token.spent) throw new AlreadySetUpError();
  }

  /**
   * @throws ForbiddenError for a wrong token (or when this server offered none and nothing is
   *   set up); AlreadySetUpError once any organisation exists; ConflictError while another
   *   attempt holds the token; ValidationError for input that does not belong together (the
   *   link stays usable then).
   */
  async setup(presented: string, input: BrowserSetupInput): Promise<BrowserSetupResult & SetUpOutcome> {
    if (this.token === null) {
      if ((await repo.findOrganisationId(this.db)) !== null) throw new AlreadySetUpError();
      throw new ForbiddenError(NO_LINK);
    }
    const claim = this.token.claim(presented);
    if (claim === 'wrong') throw new SetupLinkWrongError();
    if (claim === 'spent') throw new AlreadySetUpError();
    if (claim === 'busy') throw new ConflictError('A setup with this link is already under way.');
    let result: BrowserSetupResult;
    try {
      const checked = checkBrowserSetup(this.p, input);
      result = await storeBrowserSetup(this.db, this.p, input, checked);
    } catch (err) {
      if (err instanceof AlreadySetUpError) this.token.spend();
      else this.token.release();
      throw err;
    }
    this.token.spend();
    return { ...result, ...(await this.onSetUp(result)) };
  }
}
