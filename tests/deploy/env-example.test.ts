/**
 * docs/deploy/haven.env.example: every variable api/config.ts reads is there, each with a
 * comment line of its own above it, in the syntax systemd's EnvironmentFile= reads; once
 * its placeholders are filled it is a valid production configuration, and while they are
 * not Haven refuses to start. The other deployment files agree with it (ports, body size,
 * data directory).
 */
import { MAX_REQUEST_BODY_WITH_ATTACHMENTS } from '../../api/intake/attachments.ts';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../api/config.ts';
import { parseEnvFile, readDeployFile, ROOT } from './deploy-kit.ts';

const example = readDeployFile('haven.env.example');
const lines = example.split('\n');

/** The variable names config.ts reads (`read.kind('NAME'`). */
const configVariables = [...fs.readFileSync(path.join(ROOT, 'api/config.ts'), 'utf8').matchAll(/read\.\w+\('([A-Z_]+)'/g)].map((m) => m[1]!);

describe('docs/deploy/haven.env.example', () => {
  const env = parseEnvFile(example);

  it('sets every variable api/config.ts reads, and nothing else', () => {
    expect(configVariables.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(env).sort()).toEqual([...configVariables].sort());
  });

  it('has a comment line directly above each variable and never a comment after a value', () => {
    lines.forEach((line, i) => {
      if (!/^[A-Z_]+=/.test(line)) return;
      expect({ line, above: lines[i - 1]?.startsWith('# ') }).toEqual({ line, above: true });
      expect({ line, trailing: /\s#/.test(line) }).toEqual({ line, trailing: false });
      expect({ line, shellism: /^export |\$\(|["'`]/.test(line) }).toEqual({ line, shellism: false });
    });
  });

  it('is refused as it stands: the secret placeholder stops Haven with the variable named', () => {
    let problems: string[] = [];
    try {
      loadConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
    }
    // "must be at least 32 bytes ... still the placeholder": one line, about the secret.
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^HAVEN_SERVER_SECRET: must be at least 32 bytes/);
    for (const problem of problems) {
      expect(problem).toMatch(/^HAVEN_SERVER_SECRET: /);
      expect(problem).not.toContain('REPLACE_WITH');
    }
  });

  it('is a valid production configuration once the placeholders are filled', () => {
    const filled = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, v.replace('REPLACE_WITH_openssl_rand_hex_32', 'ab'.repeat(32)).replace('REPLACE_WITH_DB_PASSWORD', 'pw')]),
    );
    const config = loadConfig(filled);
    expect(config).toMatchObject({
      mode: 'production', behindTls: true, host: '127.0.0.1', dataDir: '/var/lib/haven', rootPublicKey: null,
      rootPublicKeyFile: '/var/lib/haven/root-public-key.txt', onionRequesterUrl: null,
    });
    expect(config.databaseUrl).toBe('postgres://haven:pw@127.0.0.1:5432/haven');
  });

  it('agrees with the unit, nginx and tor files on ports, body size and data directory', () => {
    const nginx = readDeployFile('nginx-haven.conf');
    const torrc = readDeployFile('torrc-haven');
    const unit = readDeployFile('haven.service');
    expect(nginx).toContain(`server 127.0.0.1:${env.HAVEN_REQUESTER_PORT} `);
    expect(nginx).toContain(`server 127.0.0.1:${env.HAVEN_TRIAGE_PORT} `);
    expect(torrc).toContain(`HiddenServicePort 80 127.0.0.1:${env.HAVEN_REQUESTER_PORT}\n`);
    expect(torrc).toContain(`HiddenServicePort 80 127.0.0.1:${env.HAVEN_TRIAGE_PORT}\n`);
    const sizes = [...nginx.matchAll(/^\s*client_max_body_size (\d+)m;/gm)].map((m) => Number(m[1]) * 1024 * 1024);
    // Both sites at HAVEN_MAX_BODY_BYTES; the requester's upload endpoint at least what Haven takes there.
    expect(sizes.filter((s) => s === Number(env.HAVEN_MAX_BODY_BYTES))).toHaveLength(2);
    const raised = sizes.filter((s) => s !== Number(env.HAVEN_MAX_BODY_BYTES));
    expect(raised).toHaveLength(1);
    expect(raised[0]).toBeGreaterThanOrEqual(MAX_REQUEST_BODY_WITH_ATTACHMENTS);
    expect(unit).toContain(`ReadWritePaths=${env.HAVEN_DATA_DIR}\n`);
    expect(unit).toContain(`StateDirectory=${path.basename(env.HAVEN_DATA_DIR!)}\n`);
  });
});
