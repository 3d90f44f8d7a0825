/**
 * docs/deploy/haven.service, checked with systemd's own tools on a temporary copy whose
 * paths point into a temporary root laid out like the server (/srv/haven/dist/server/main.js,
 * /etc/haven/haven.env, /var/lib/haven), so nothing depends on this machine's layout or on
 * a build existing.
 *
 * `systemd-analyze verify` parses the unit and checks that ExecStart's program exists. It
 * does not open EnvironmentFile= (systemd reads it only when the service starts), so it is
 * blind to a comment written after the path: systemd takes `/etc/haven/haven.env  # note`
 * as one path, which does not exist, and the service then fails to start. The test asks
 * systemd's condition evaluator whether each EnvironmentFile= value, exactly as the unit
 * file gives it, names an existing file, and proves with the old line from DEPLOY.md that
 * this catches it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployFile, removeTempDirs, render, requireTools, run, tempDir } from './deploy-kit.ts';

const tools = requireTools('tests/deploy/systemd.test.ts', { 'systemd-analyze': 'systemd' });

/** The line docs/DEPLOY.md used to show: systemd reads the comment as part of the path. */
const OLD_BROKEN_LINE = 'EnvironmentFile=/etc/haven/haven.env      # mode 0600: holds HAVEN_SERVER_SECRET and DATABASE_URL';

const unit = readDeployFile('haven.service');

/** `Key=value` assignments as systemd reads a unit: whole-line comments only, value trimmed. */
function assignments(text: string, key: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => !line.startsWith('#') && !line.startsWith(';'))
    .map((line) => /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === key)
    .map((m) => m[2]!);
}

describe('docs/deploy/haven.service as written', () => {
  it('runs node directly on the built server, never through npm', () => {
    expect(assignments(unit, 'ExecStart')).toEqual(['/usr/bin/node /srv/haven/dist/server/main.js']);
    expect(unit).not.toMatch(/^[^#]*\bnpm\b/m);
    expect(assignments(unit, 'KillSignal')).toEqual(['SIGTERM']);
    expect(assignments(unit, 'EnvironmentFile')).toEqual(['/etc/haven/haven.env']);
    expect(assignments(unit, 'User')).toEqual(['haven']);
  });

  it('puts no comment after a value (systemd would read it as part of the value)', () => {
    const offenders = unit.split('\n').filter((line) => !/^\s*[#;]/.test(line) && /\s[#;]/.test(line));
    expect(offenders).toEqual([]);
  });

  it('stops a little after the grace period haven.env.example sets', () => {
    const grace = Number(/^HAVEN_SHUTDOWN_GRACE_SECONDS=(\d+)$/m.exec(readDeployFile('haven.env.example'))![1]);
    const stop = /^(\d+)s$/.exec(assignments(unit, 'TimeoutStopSec')[0] ?? '');
    expect(stop).not.toBeNull();
    expect(Number(stop![1])).toBeGreaterThan(grace);
    expect(Number(stop![1])).toBeLessThanOrEqual(grace + 15);
  });

  it('has every hardening setting, and leaves MemoryDenyWriteExecute off with the reason', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'true', ProtectSystem: 'strict', ProtectHome: 'true', PrivateTmp: 'true', PrivateDevices: 'true',
      ProtectKernelTunables: 'true', ProtectKernelModules: 'true', ProtectKernelLogs: 'true', ProtectControlGroups: 'true',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', RestrictNamespaces: 'true', LockPersonality: 'true',
      SystemCallArchitectures: 'native', CapabilityBoundingSet: '', LimitNOFILE: '65536', ReadWritePaths: '/var/lib/haven',
    };
    for (const [key, value] of Object.entries(expected)) expect({ key, values: assignments(unit, key) }).toEqual({ key, values: [value] });
    // V8's JIT writes code and then makes it executable; Node aborts under this setting.
    expect(assignments(unit, 'MemoryDenyWriteExecute')).toEqual([]);
    expect(unit).toMatch(/^# MemoryDenyWriteExecute= stays off on purpose: V8's JIT/m);
  });
});

describe.skipIf(tools === null)('docs/deploy/haven.service checked by systemd-analyze', () => {
  const analyze = tools?.['systemd-analyze'] ?? '';
  let root: string;

  /** The unit with its paths moved under `root`; `edit` may change it further. */
  function installUnit(name: string, edit: (text: string) => string = (t) => t): string {
    const text = edit(
      render(unit, [
        ['/usr/bin/node', process.execPath],
        ['/srv/haven', path.join(root, 'srv/haven')],
        ['/etc/haven', path.join(root, 'etc/haven')],
        ['/var/lib/haven', path.join(root, 'var/lib/haven')],
      ]),
    );
    const file = path.join(root, 'etc/systemd/system', name);
    fs.writeFileSync(file, text);
    return file;
  }

  function pathAsserted(file: string): ReturnType<typeof run> {
    const values = assignments(fs.readFileSync(file, 'utf8'), 'EnvironmentFile').map((v) => v.replace(/^-/, ''));
    expect(values.length).toBeGreaterThan(0);
    return run(analyze, ['condition', ...values.map((v) => `AssertPathExists=${v}`)]);
  }

  beforeAll(() => {
    root = tempDir('haven-systemd-');
    for (const dir of ['srv/haven/dist/server', 'etc/haven', 'var/lib/haven', 'etc/systemd/system']) fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, 'srv/haven/dist/server/main.js'), '// stands in for the build output\n');
    fs.copyFileSync(path.join(import.meta.dirname, '../../docs/deploy/haven.env.example'), path.join(root, 'etc/haven/haven.env'));
    fs.chmodSync(path.join(root, 'etc/haven/haven.env'), 0o600);
  });
  afterAll(removeTempDirs);

  it('verifies cleanly: no error and no warning', () => {
    const result = run(analyze, ['verify', '--man=no', installUnit('haven.service')]);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('fails verification when the program ExecStart names does not exist (the check is real)', () => {
    const file = installUnit('haven-missing-node.service', (t) => t.replace(process.execPath, '/nonexistent/bin/node'));
    const result = run(analyze, ['verify', '--man=no', file]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('/nonexistent/bin/node is not executable');
  });

  it('names an EnvironmentFile that exists, as systemd will open it', () => {
    const result = pathAsserted(installUnit('haven.service'));
    expect(result.stdout + result.stderr).toContain('Asserts succeeded');
    expect(result.status).toBe(0);
  });

  it('catches the old DEPLOY.md line whose trailing comment systemd reads as part of the path', () => {
    const broken = installUnit('haven-old-line.service', (t) => t.replace(/^EnvironmentFile=.*$/m, OLD_BROKEN_LINE.replace('/etc/haven', path.join(root, 'etc/haven'))));
    // verify alone accepts it: the path is only opened when the service starts...
    expect(run(analyze, ['verify', '--man=no', broken]).status).toBe(0);
    // ...where systemd looks for a file whose name includes the comment.
    const result = pathAsserted(broken);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/AssertPathExists=.*haven\.env\s+# mode 0600: holds HAVEN_SERVER_SECRET and DATABASE_URL failed/);
  });

  it('scores "OK" or better in systemd\'s offline security review (exposure at most 2.0 of 10)', () => {
    const result = run(analyze, ['security', '--offline=yes', '--threshold=20', '--no-pager', installUnit('haven.service')]);
    expect(result.stdout).toMatch(/Overall exposure level for haven\.service: [0-1]\.\d|Overall exposure level for haven\.service: 2\.0/);
    expect(result.status).toBe(0);
  });
});
