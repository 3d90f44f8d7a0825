/**
 * Judges a responder's chosen passphrase before any key is made. The passphrase protects the
 * wrapped account keys against anyone holding a copy of the database, so it must resist
 * offline guessing: at least 12 characters, and none of the obvious shapes guessers try first.
 * Each problem has a reason the page states in words.
 */
export type PassphraseProblem = 'tooSimple' | 'tooShort' | 'common' | 'hasName' | 'repeated' | 'sequence' | 'digitsOnly' | 'mismatch';

export interface PassphraseVerdict {
  ok: boolean;
  /** 0 (unusable) .. 4 (strong) */
  score: number;
  problems: PassphraseProblem[];
}

export const MIN_PASSPHRASE_CHARS = 12;

const COMMON = [
  'password', 'passphrase', 'passwort', 'qwerty', 'azerty', 'letmein', 'welcome', 'iloveyou', 'admin', 'haven',
  'monkey', 'dragon', 'football', 'baseball', 'sunshine', 'princess', 'trustno1', 'secret', 'changeme', 'default',
  'пароль', 'йцукен', 'correcthorsebatterystaple', '123456', 'abc123', 'qwertyuiop', 'asdfgh', 'zxcvbn',
];

function hasSequence(s: string, run: number): boolean {
  let up = 1;
  let down = 1;
  for (let i = 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - s.charCodeAt(i - 1);
    up = d === 1 ? up + 1 : 1;
    down = d === -1 ? down + 1 : 1;
    if (up >= run || down >= run) return true;
  }
  return false;
}

/** A rough entropy estimate (bits) from length and character classes, discounted for repeats. */
function estimateBits(pw: string): number {
  const chars = [...pw];
  let pool = 0;
  if (/[a-z]/.test(pw)) pool += 26;
  if (/[A-Z]/.test(pw)) pool += 26;
  if (/[0-9]/.test(pw)) pool += 10;
  if (/[^A-Za-z0-9\s]/.test(pw) && /[\x21-\x7e]/.test(pw.replace(/[A-Za-z0-9]/g, ''))) pool += 33;
  if (/\s/.test(pw)) pool += 1;
  if (/[^\p{ASCII}]/u.test(pw)) pool += 66;
  const unique = new Set(chars).size;
  const effective = Math.min(chars.length, unique * 2);
  return effective * Math.log2(Math.max(pool, 2));
}

export function assessPassphrase(pw: string, username: string, confirm?: string): PassphraseVerdict {
  const problems: PassphraseProblem[] = [];
  const length = [...pw].length;
  const lower = pw.toLowerCase();
  const squashed = lower.replace(/[^\p{L}\p{N}]/gu, '');
  if (length < MIN_PASSPHRASE_CHARS) problems.push('tooShort');
  // Common words plus a few digits ("password1234", "парольпароль12") are what guessers try first.
  let rest = squashed;
  for (const w of COMMON) rest = rest.split(w).join('');
  if (rest !== squashed && rest.replace(/[0-9]/g, '').length < 6) problems.push('common');
  const name = username.trim().toLowerCase();
  if (name.length >= 3 && lower.includes(name)) problems.push('hasName');
  if (/^(.{1,4})\1+$/su.test(squashed) || new Set([...squashed]).size <= 3) problems.push('repeated');
  if (squashed.length > 0 && hasSequence(squashed, 6) && squashed.length < 20) problems.push('sequence');
  if (/^[0-9\s]+$/.test(pw) && pw.length > 0) problems.push('digitsOnly');
  if (confirm !== undefined && confirm !== pw) problems.push('mismatch');
  const bits = estimateBits(pw);
  let score = bits < 45 ? 1 : bits < 65 ? 2 : bits < 85 ? 3 : 4;
  if (length === 0) score = 0;
  if (problems.some((x) => x !== 'mismatch')) score = Math.min(score, 1);
  if (length > 0 && score < 2 && !problems.some((x) => x !== 'mismatch')) problems.unshift('tooSimple');
  return { ok: problems.length === 0, score, problems };
}
