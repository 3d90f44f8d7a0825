/**
 * The "sent" screen: the passphrase is shown once and exists nowhere else, so leaving this
 * screen by accident would lose the request for good. While it is shown:
 * - reload and closing the tab ask first (`beforeunload`);
 * - Back (Android's Back button included) stays on the page: a history entry is pushed when the
 *   screen opens, and `popstate` puts it back and shows a warning, with the passphrase still there;
 * - "I have written it down" asks for two words of it, at two random positions, typed back from
 *   what the person wrote (compared like the passphrase itself: case, spaces and punctuation do
 *   not matter); only then is it wiped.
 * The quick exit calls `release()` first: it must never be held up by a question.
 */
import { normalizePassphrase } from '../../crypto/v1/requester.ts';
import type { Strings } from '../../crypto/requester-i18n.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Two distinct positions in 0..n-1, uniformly, from the browser's CSPRNG. */
export function twoPositions(n: number, random: (count: number) => Uint8Array): [number, number] {
  const pick = (limit: number): number => {
    // Rejection sampling on one byte: n is at most a dozen words.
    for (;;) {
      const x = random(1)[0]!;
      if (x < 256 - (256 % limit)) return x % limit;
    }
  };
  const a = pick(n);
  let b = pick(n - 1);
  if (b >= a) b++;
  return a < b ? [a, b] : [b, a];
}

let active: { release: () => void } | null = null;

function onBeforeUnload(event: BeforeUnloadEvent): void {
  event.preventDefault();
  // Older browsers need returnValue set; the text itself is not shown by any current browser.
  event.returnValue = '';
}

/**
 * Shows the passphrase and guards it until the two-word check passes; then wipes it and calls
 * `done`. `t` is read at each use, so a language switch on this screen takes effect.
 */
export function guardPassphrase(passphrase: string, t: () => Strings, random: (n: number) => Uint8Array, done: () => void): void {
  active?.release();
  const words = passphrase.split(' ');
  const [a, b] = twoPositions(words.length, random);
  const out = $('passphrase-out');
  const warning = $('sent-warning');
  const check = $<HTMLFormElement>('check-form');
  const checkStatus = $('check-status');
  const inputA = $<HTMLInputElement>('check-a');
  const inputB = $<HTMLInputElement>('check-b');
  out.textContent = passphrase;
  out.hidden = false;
  warning.hidden = true;
  check.hidden = true;
  checkStatus.textContent = '';
  inputA.value = '';
  inputB.value = '';

  const labels = () => {
    $('check-a-label').textContent = t().checkWord.replace('{n}', String(a + 1));
    $('check-b-label').textContent = t().checkWord.replace('{n}', String(b + 1));
  };
  const onPopState = () => {
    // Back was pressed: stay, put the entry back for the next press, and say why.
    history.pushState({ sent: true }, '', location.href);
    warning.textContent = t().backWarning;
    warning.hidden = false;
    out.hidden = false;
    warning.focus();
  };
  const onWritten = () => {
    labels();
    out.hidden = true;
    check.hidden = false;
    checkStatus.textContent = '';
    inputA.focus();
  };
  const onShowAgain = () => {
    out.hidden = false;
  };
  const onCheck = (event: Event) => {
    event.preventDefault();
    if (normalizePassphrase(inputA.value) === words[a] && normalizePassphrase(inputB.value) === words[b]) {
      release();
      out.textContent = '';
      inputA.value = '';
      inputB.value = '';
      check.hidden = true;
      done();
    } else {
      checkStatus.textContent = t().checkWrong;
      checkStatus.classList.add('error');
    }
  };
  const written = $('written');
  const showAgain = $('show-again');
  const release = () => {
    window.removeEventListener('beforeunload', onBeforeUnload);
    window.removeEventListener('popstate', onPopState);
    written.removeEventListener('click', onWritten);
    showAgain.removeEventListener('click', onShowAgain);
    check.removeEventListener('submit', onCheck);
    active = null;
  };
  window.addEventListener('beforeunload', onBeforeUnload);
  window.addEventListener('popstate', onPopState);
  written.addEventListener('click', onWritten);
  showAgain.addEventListener('click', onShowAgain);
  check.addEventListener('submit', onCheck);
  history.pushState({ sent: true }, '', location.href);
  active = { release };
}

/** Drops the guard (the quick exit: leave at once, ask nothing). The passphrase goes with the page. */
export function releasePassphraseGuard(): void {
  active?.release();
}
