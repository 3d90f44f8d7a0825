import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('has safe defaults that need no setting at all', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('development');
    expect(config.databaseUrl).toBeNull();
    expect(config.host).toBe('127.0.0.1');
    expect(config.requesterPort).toBe(8080);
    expect(config.triagePort).toBe(8081);
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });

  it('gives one clear line per bad value, naming the variable', () => {
    const problems = problemsOf({
      HAVEN_REQUESTER_PORT: 'abc',
      HAVEN_TRIAGE_PORT: '70000',
      HAVEN_MODE: 'staging',
      HAVEN_BEHIND_TLS: 'maybe',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('HAVEN_REQUESTER_PORT:'))).toContain('"abc"');
    expect(problems.find((p) => p.startsWith('HAVEN_TRIAGE_PORT:'))).toContain('from 0 to 65535');
    expect(problems.find((p) => p.startsWith('HAVEN_MODE:'))).toContain('development, production, test');
    expect(problems.some((p) => p.startsWith('HAVEN_BEHIND_TLS:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL:'))).toBe(true);
  });

  it('never echoes a secret or a database password back', () => {
    const problems = problemsOf({
      HAVEN_SERVER_SECRET: 'tooshort-s3cr3t',
      DATABASE_URL: 'not a url with p4ssw0rd',
    });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/s3cr3t|p4ssw0rd/);
  });

  it('says a production secret that is set but short is too short, not that it is missing', () => {
    const problems = problemsOf({ HAVEN_MODE: 'production', HAVEN_SERVER_SECRET: 'short' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^HAVEN_SERVER_SECRET: must be at least 32 bytes/);
    expect(problems[0]).toContain('too short');
    expect(problems[0]).not.toContain('required');
    expect(problems[0]).not.toContain('short"');
  });

  it('has connection timeouts of seconds and separate budgets for the two sites', () => {
    const { connections } = loadConfig({});
    expect(connections).toEqual({
      headersTimeoutSeconds: 10, requestTimeoutSeconds: 20, keepAliveTimeoutSeconds: 5, socketIdleTimeoutSeconds: 30,
      requesterMaxConnections: 8192, triageMaxConnections: 1024,
    });
    const problems = problemsOf({ HAVEN_HEADERS_TIMEOUT_SECONDS: '30', HAVEN_REQUEST_TIMEOUT_SECONDS: '10' });
    expect(problems).toEqual([expect.stringMatching(/^HAVEN_REQUEST_TIMEOUT_SECONDS: must be at least HAVEN_HEADERS_TIMEOUT_SECONDS/)]);
  });

  it('requires a server secret in production and refuses equal ports', () => {
    const problems = problemsOf({ HAVEN_MODE: 'production', HAVEN_REQUESTER_PORT: '9000', HAVEN_TRIAGE_PORT: '9000' });
    expect(problems.some((p) => p.startsWith('HAVEN_SERVER_SECRET:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HAVEN_TRIAGE_PORT:'))).toBe(true);
  });

  it('accepts a root public key as hex or base64url and rejects other lengths', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ HAVEN_ROOT_PUBLIC_KEY: hex }).rootPublicKey).toHaveLength(32);
    const b64 = Buffer.alloc(32, 7).toString('base64url');
    expect(loadConfig({ HAVEN_ROOT_PUBLIC_KEY: b64 }).rootPublicKey?.[0]).toBe(7);
    expect(problemsOf({ HAVEN_ROOT_PUBLIC_KEY: 'ab'.repeat(31) })[0]).toMatch(/^HAVEN_ROOT_PUBLIC_KEY:/);
  });
});

describe('onion address', () => {
  it('accepts a v3 onion URL and refuses anything else', () => {
    const onion = `http://${'a'.repeat(56)}.onion`;
    expect(loadConfig({ HAVEN_ONION_REQUESTER_URL: `${onion}/` }).onionRequesterUrl).toBe(onion);
    expect(problemsOf({ HAVEN_ONION_REQUESTER_URL: 'http://example.org' })[0]).toMatch(/^HAVEN_ONION_REQUESTER_URL:/);
  });

  it('reads HAVEN_TRIAGE_ORIGIN as an origin (the passkeys\' relying party) and refuses a path', () => {
    expect(loadConfig({}).triageOrigin).toBeNull();
    expect(loadConfig({ HAVEN_TRIAGE_ORIGIN: 'https://Triage.Example.org/' }).triageOrigin).toBe('https://triage.example.org');
    expect(problemsOf({ HAVEN_TRIAGE_ORIGIN: 'https://triage.example.org/dashboard' })[0]).toMatch(/^HAVEN_TRIAGE_ORIGIN:/);
    expect(problemsOf({ HAVEN_TRIAGE_ORIGIN: 'ftp://triage.example.org' })[0]).toMatch(/^HAVEN_TRIAGE_ORIGIN:/);
  });
});
