/**
 * What this staff browser remembers about team keys: per (organisation, team), the highest
 * team key statement serial it has verified. Kept in localStorage, where the server cannot
 * write (staff browsers may keep state; the requester page never does).
 *
 * Threat: a server (or anything between it and the browser) that replays an OLDER genuine
 * statement after a rotation, so replies and re-wrapped records go to a key a removed member
 * still holds. Every statement this browser accepts as current must have a serial at least
 * the remembered one (and at least the floor the page was rendered with).
 */
import { embeddedKeySerialFloor } from '../shared/deployment.ts';

export interface KeyFloorStore {
  /** The lowest serial to accept for the team: the remembered one or the page's floor, whichever is higher. */
  get(orgId: string, teamId: string): number;
  /** Remembers `serial` if it is higher than what is remembered. */
  raise(orgId: string, teamId: string, serial: number): void;
}

const PREFIX = 'haven-key-serial:';

/** The page's own floor for a team; 0 if the page carries none (a test page, or a malformed tag). */
function pageFloor(teamId: string): number {
  try {
    return typeof document === 'undefined' ? 0 : embeddedKeySerialFloor(teamId);
  } catch {
    return 0;
  }
}

/**
 * The browser's store. Without localStorage (disabled, private mode with a quota of 0) it
 * falls back to memory: the protection then lasts for this page's life only.
 */
export function browserKeyFloors(storage: Storage | null = localStorageOrNull()): KeyFloorStore {
  const memory = new Map<string, number>();
  const parse = (text: string | null | undefined): number =>
    // Anything but a plain u32 is local damage, not the server's doing: it counts as 0.
    text && /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : 0;
  const read = (key: string): number => {
    let stored: number;
    try {
      stored = parse(storage?.getItem(key));
    } catch {
      stored = 0;
    }
    return Math.max(stored, memory.get(key) ?? 0);
  };
  return {
    get(orgId, teamId) {
      return Math.max(read(`${PREFIX}${orgId}:${teamId}`), pageFloor(teamId));
    },
    raise(orgId, teamId, serial) {
      const key = `${PREFIX}${orgId}:${teamId}`;
      if (serial <= read(key)) return;
      memory.set(key, serial);
      try {
        storage?.setItem(key, String(serial));
      } catch {
        // Quota or disabled storage: the memory copy still protects this page.
      }
    },
  };
}

function localStorageOrNull(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

let shared: KeyFloorStore | null = null;

/** The page's one store (every view reads and raises the same floors). */
export function keyFloors(): KeyFloorStore {
  shared ??= browserKeyFloors();
  return shared;
}

/** A store that remembers nothing (tools and benchmarks that run the page's key code once). */
export const NO_KEY_FLOORS: KeyFloorStore = { get: () => 0, raise: () => undefined };

/**
 * Why a team's key was refused, for the page to say in words. The names are the crypto
 * error codes (crypto/errors.ts).
 */
export type KeyRefusal = 'rolled_back' | 'expired_statement' | 'not_yet_valid';
