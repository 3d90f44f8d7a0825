/** `npm run retention`: runs the retention sweep once (the server also runs it hourly). */
import { runCli } from '../cli.ts';
import { resolveServerSecret } from '../deployment-keys.ts';
import { printLine } from '../logger.ts';
import { runRetention } from './retention.service.ts';

await runCli(async ({ config, database, crypto }) => {
  const r = await runRetention(database.db, crypto, { serverSecret: resolveServerSecret(config), config });
  printLine(`Deleted ${r.requests} closed requests (${r.messages} messages, ${r.attachments} attachments), ${r.sessions} expired sessions, ${r.challenges} spent challenges.`);
});
