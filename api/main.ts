/**
 * `npm start`: validate the configuration, start both sites, print their URLs, and shut
 * down gracefully on SIGTERM or SIGINT.
 */
import { ConfigError, loadConfig } from './config.ts';
import { DataDirInUseError } from './db/data-dir-lock.ts';
import { createLogger, printError, printLine } from './logger.ts';
import { startServer } from './server.ts';
import { rootKeyIsWrong } from './health/root-key.service.ts';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) printError(`haven: ${problem}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let running;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      printError(`haven: ${err.message}`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      printError(`haven: cannot listen on ${config.host} (${code}); set HAVEN_REQUESTER_PORT / HAVEN_TRIAGE_PORT`);
      return 1;
    }
    printError(`haven: could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const where = running.database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
  printLine(`Haven is running on the ${where}.`);
  if (running.serves.requester) printLine(`  Requester site:   ${running.requesterUrl}`);
  if (running.serves.triage) printLine(`  Triage dashboard: ${running.triageUrl}`);
  if (rootKeyIsWrong(running.rootKey)) {
    const rule = '!'.repeat(78);
    printError(rule);
    printError(
      running.rootKey === 'missing' ? 'haven: THE ROOT PUBLIC KEY IS MISSING, but this database holds an organisation.'
        : running.rootKey === 'superseded' ? 'haven: THE ROOT PUBLIC KEY IS AN OLD ONE: a root rotation replaced it (use the newest root).'
          : 'haven: THE ROOT PUBLIC KEY IS WRONG: it verifies none of this organisation\'s certificates.',
    );
    printError('haven: requester pages cannot verify any team key, so nobody can send a request, and');
    printError('haven: /api/v1/health/ready answers 503. Set HAVEN_ROOT_PUBLIC_KEY (or the file named by');
    printError('haven: HAVEN_ROOT_PUBLIC_KEY_FILE) to the key you published at setup, then restart.');
    printError(rule);
  } else if (running.setupUrl !== null) {
    // The link carries the one-time token: printed here, on the operator's console, and
    // nowhere else (never through the logger, which may be shipped elsewhere).
    printLine('No organisation is set up yet. Open this one-time link in a browser to create it');
    printLine('(the first admin account, the organisation root key and the first teams, all made in the browser):');
    printLine(`  Setup link:       ${running.setupUrl}`);
    if (config.behindTls) {
      // This address is Haven's own plain-http port; behind TLS the setup page must come
      // through the proxy, or the browser's Origin (http) is refused and the setup fails.
      // The token is not printed a second time: one copy on the console is enough to guard.
      printLine(`  HAVEN_BEHIND_TLS is true: open it through the triage site's HTTPS address instead: replace`);
      printLine(`  ${running.triageUrl} with https://<triage host>/ and keep the #setup=... part.`);
    }
    printLine('  Anyone with this link can set up this hotline until you do: do not share it.');
    printLine('  Just trying Haven? Stop this and run `npm run demo` instead.');
  } else if (!running.setUp) {
    printLine('No organisation is set up yet, so the request form cannot accept requests.');
    printLine('  Try it with a demo:  npm run seed   (local use only), then restart.');
    printLine('  For real use:        npm run setup  (see docs/DEPLOY.md, section 5).');
  }
  printLine('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      printLine('Haven is stopping…');
      running.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    printError(`haven: fatal: ${err instanceof Error ? err.name : 'error'}`);
    process.exit(1);
  },
);
