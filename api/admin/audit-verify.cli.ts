/**
 * `npm run audit:verify [-- --expect-head SEQ:HASH]`: walks the audit chain, checks every
 * hash, and every signature with the key in the actor's certificate verified against the
 * organisation root from deployment configuration (HAVEN_ROOT_PUBLIC_KEY or its key file);
 * no key is taken from the database, so a database writer cannot re-sign the chain. Prints OK
 * and the head (record it: it lets a later run detect entries cut off the end) or the first
 * broken link and why. Exit status 1 when broken or when no root key is configured.
 */
import { runCli } from '../cli.ts';
import { printLine } from '../logger.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { resolveRootPublicKey } from '../deployment-keys.ts';
import { verifyAuditChain } from './audit.service.ts';

/** `--expect-head SEQ:HASH` as printed by an earlier run. @throws Error on a malformed value. */
function expectedHead(args: string[]): { seq: number; hash: Uint8Array } | undefined {
  const i = args.indexOf('--expect-head');
  if (i < 0) return undefined;
  const [seq, hash] = (args[i + 1] ?? '').split(':');
  if (!seq || !/^\d+$/.test(seq) || !hash) throw new Error('--expect-head takes SEQ:HASH as printed by a previous run');
  return { seq: Number(seq), hash: base64urlDecode(hash) };
}

await runCli(
  async ({ config, database, crypto }) => {
    const expectHead = expectedHead(process.argv.slice(2));
    // The root only from deployment configuration: with the database as the source of keys, a
    // database writer could re-sign the whole chain. No root, no verdict.
    const root = resolveRootPublicKey(config);
    if (!root) throw new Error('no organisation root public key is configured (HAVEN_ROOT_PUBLIC_KEY or HAVEN_ROOT_PUBLIC_KEY_FILE): audit:verify takes the root from deployment configuration only');
    const r = await verifyAuditChain(database.db, crypto, root, expectHead ? { expectHead } : {});
    if (r.ok) {
      printLine(`OK: ${r.count} entries verified.`);
      if (r.head) printLine(`Head: ${r.head.seq}:${base64urlEncode(r.head.hash)}`);
    } else {
      printLine(`BROKEN at entry ${r.seq}: ${r.reason} (${r.count} entries before it verified).`);
      process.exitCode = 1;
    }
  },
  { migrate: false },
);
