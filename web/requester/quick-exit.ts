/**
 * The quick exit: the link at the top (a plain link, so it also works with JavaScript off, where
 * it cannot replace the history entry), or Escape three times within two seconds. It drops the
 * passphrase guard (leaving must never wait on a question), lets the page wipe its memory,
 * empties the screen and replaces this history entry with a neutral, common site.
 */
import { releasePassphraseGuard } from './sent-screen.ts';

/** Where the quick exit goes: a neutral, common site; the history entry is replaced. */
const QUICK_EXIT_URL = 'https://www.wikipedia.org/';

function leave(url: string, wipe: () => void): void {
  releasePassphraseGuard();
  wipe();
  document.body.replaceChildren();
  // On the sent screen this page pushed a second entry (to catch Back): step off it first, so
  // the entry replaced is the page's own and no entry of this site is left behind it.
  if ((history.state as { sent?: boolean } | null)?.sent) {
    const go = () => location.replace(url);
    window.addEventListener('popstate', go, { once: true });
    setTimeout(go, 400);
    history.back();
    return;
  }
  location.replace(url);
}

/** `wipe` drops the page's keys and session from memory. */
export function installQuickExit(button: HTMLElement, wipe: () => void): void {
  // One source for where it goes: the link's own address (the fallback only if it has none).
  const url = button instanceof HTMLAnchorElement && button.href ? button.href : QUICK_EXIT_URL;
  button.addEventListener('click', (event) => {
    // The script's way out replaces this history entry; the link's plain navigation would not.
    event.preventDefault();
    leave(url, wipe);
  });
  let presses: number[] = [];
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const now = performance.now();
    presses = [...presses.filter((at) => now - at < 2000), now];
    if (presses.length >= 3) leave(url, wipe);
  });
}
