/**
 * The two values that come from deployment configuration, never from the database:
 * the server secret (signs proof-of-work challenges) and the organisation root public key
 * (the anchor every browser verifies intake keys against).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeKeyText, type Config } from './config.ts';

export class DeploymentKeyError extends Error {
  override name = 'DeploymentKeyError';
}

/**
 * HAVEN_SERVER_SECRET, or (outside production) a secret generated once into the data
 * directory so a newcomer needs no setting.
 */
export function resolveServerSecret(config: Config): Uint8Array {
  if (config.serverSecret) return config.serverSecret;
  if (config.mode === 'production') throw new DeploymentKeyError('HAVEN_SERVER_SECRET is required in production');
  const file = path.join(config.dataDir, 'server-secret');
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = decodeKeyText(fs.readFileSync(file, 'utf8'));
  if (!secret || secret.length < 32) throw new DeploymentKeyError(`${file} does not hold a 32-byte hex secret`);
  return secret;
}

/** HAVEN_ROOT_PUBLIC_KEY, else the key file; null when neither is set (not set up yet). */
export function resolveRootPublicKey(config: Config): Uint8Array | null {
  if (config.rootPublicKey) return config.rootPublicKey;
  let text: string;
  try {
    text = fs.readFileSync(config.rootPublicKeyFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const key = decodeKeyText(text.trim());
  if (!key || key.length !== 32) throw new DeploymentKeyError(`${config.rootPublicKeyFile} does not hold a 32-byte public key`);
  return key;
}

/** Writes the root public key where `resolveRootPublicKey` reads it (setup and demo seed). */
export function writeRootPublicKeyFile(config: Config, publicKey: Uint8Array): string {
  fs.mkdirSync(path.dirname(config.rootPublicKeyFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(config.rootPublicKeyFile, `${Buffer.from(publicKey).toString('hex')}\n`, { mode: 0o644 });
  return config.rootPublicKeyFile;
}
