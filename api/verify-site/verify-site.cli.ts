/**
 * `npm run verify-site -- <url> --root <root public key> [--proxy socks5://host:port]`
 *
 * The root key as base64url or 64 hex digits, obtained out of band (docs/DEPLOY.md, 5a).
 *
 * Exit status: 0 when every file matches the root-signed manifest, 1 when anything differs
 * or fails to verify (the first differing file is named), 2 on a usage error.
 */
import { base64urlDecode } from '../../crypto/encoding.ts';
import { verifySite } from './verify-site.ts';

const USAGE = 'usage: npm run verify-site -- <url> --root <root public key: base64url or hex> [--proxy socks5://host:port]\n';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function main(args: string[]): Promise<number> {
  const rootText = flag(args, 'root');
  const proxy = flag(args, 'proxy');
  const url = args.find((a, i) => !a.startsWith('--') && !['--root', '--proxy'].includes(args[i - 1] ?? ''));
  let root: Uint8Array | null;
  try {
    // base64url (the page's meta tag) or 64 hex digits (what `npm run setup` prints).
    root = !rootText ? null : /^[0-9a-fA-F]{64}$/.test(rootText) ? new Uint8Array(Buffer.from(rootText, 'hex')) : base64urlDecode(rootText);
  } catch {
    root = null;
  }
  if (!url || !/^https?:\/\//.test(url) || !root || root.length !== 32) {
    process.stderr.write(USAGE);
    return 2;
  }
  let result;
  try {
    result = await verifySite(url, root, proxy ? { proxy } : {});
  } catch (err) {
    process.stderr.write(`verify-site: ${(err as Error).message}\n`);
    return 2;
  }
  if (!result.ok) {
    process.stdout.write(`FAILED: ${result.problem}\n`);
    return 1;
  }
  process.stdout.write(
    `OK: all ${result.files} files of the ${result.site} site match the manifest signed by the root key ${result.rootFingerprint}.\n` +
      `Manifest SHA-256: ${result.manifestSha256}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
