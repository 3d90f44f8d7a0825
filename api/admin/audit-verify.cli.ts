/**
 * `npm run audit:verify [-- --expect-head SEQ:HASH]`: walks the audit chain, checks every
 * hash and signature against the actors' stored keys, prints OK and the head (record it: it
 * lets a later run detect entries cut off the end) or the first broken link and why.
 * Exit status 1 when broken.
 */
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { printError, printLine } from '../logger.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { verifyAuditChain } from './audit.service.ts';

try {
  const config = loadConfig();
  const args = process.argv.slice(2);
  const i = args.indexOf('--expect-head');
  let expectHead: { seq: number; hash: Uint8Array } | undefined;
  if (i >= 0) {
    const [seq, hash] = (args[i + 1] ?? '').split(':');
    if (!seq || !/^\d+$/.test(seq) || !hash) throw new Error('--expect-head takes SEQ:HASH as printed by a previous run');
    expectHead = { seq: Number(seq), hash: base64urlDecode(hash) };
  }
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const r = await verifyAuditChain(database.db, p, expectHead ? { expectHead } : {});
    if (r.ok) {
      printLine(`OK: ${r.count} entries verified.`);
      if (r.head) printLine(`Head: ${r.head.seq}:${base64urlEncode(r.head.hash)}`);
    } else {
      printLine(`BROKEN at entry ${r.seq}: ${r.reason} (${r.count} entries before it verified).`);
      process.exitCode = 1;
    }
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
  else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
