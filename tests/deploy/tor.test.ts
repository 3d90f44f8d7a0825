/**
 * docs/deploy/torrc-haven as written, checked by Debian's tor (`tor --verify-config`),
 * included with `%include` from a torrc of the test's own, as docs/DEPLOY.md installs it,
 * with only the two HiddenServiceDir paths moved into a temporary directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployFile, removeTempDirs, render, requireTools, run, tempDir } from './deploy-kit.ts';

const tools = requireTools('tests/deploy/tor.test.ts', { tor: 'tor' });
const torrc = readDeployFile('torrc-haven');

describe('docs/deploy/torrc-haven as written', () => {
  it('has two onion services, and the proof-of-work defence on the requester one only', () => {
    const services = torrc.split(/^(?=HiddenServiceDir )/m).slice(1);
    expect(services.map((s) => /^HiddenServiceDir (\S+)/.exec(s)![1])).toEqual(['/var/lib/tor/haven-requester/', '/var/lib/tor/haven-triage/']);
    expect(services[0]).toMatch(/^HiddenServicePoWDefensesEnabled 1$/m);
    expect(services[1]).not.toMatch(/^HiddenServicePoW/m);
  });
});

describe.skipIf(tools === null)('docs/deploy/torrc-haven checked by tor --verify-config', () => {
  const tor = tools?.tor ?? '';
  let dir: string;

  function verify(text: string): ReturnType<typeof run> {
    const included = path.join(dir, 'haven.torrc');
    fs.writeFileSync(included, render(text, [
      ['/var/lib/tor/haven-requester/', `${dir}/haven-requester/`],
      ['/var/lib/tor/haven-triage/', `${dir}/haven-triage/`],
    ]));
    const main = path.join(dir, 'torrc');
    fs.writeFileSync(main, `DataDirectory ${dir}/data\nSocksPort 0\n%include ${included}\n`);
    return run(tor, ['--verify-config', '-f', main, '--defaults-torrc', '/dev/null']);
  }

  beforeAll(() => {
    dir = tempDir('haven-tor-');
    for (const d of ['data', 'haven-requester', 'haven-triage']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  });
  afterAll(removeTempDirs);

  it('is valid, with both services and the PoW option read', () => {
    const result = verify(torrc);
    expect(result.stdout).toContain('Configuration was valid');
    expect(result.stdout).toContain(`Including configuration file "${dir}/haven.torrc"`);
    expect(result.stdout).not.toMatch(/\[warn\] (?!You are running Tor as root)/);
    expect(result.status).toBe(0);
  });

  it('would be refused with a misspelt option (the check is real)', () => {
    const result = verify(torrc.replace('HiddenServicePoWDefensesEnabled 1', 'HiddenServicePowDefence 1'));
    expect(result.stdout).toMatch(/Unknown option 'HiddenServicePowDefence'/);
    expect(result.status).not.toBe(0);
  });
});
