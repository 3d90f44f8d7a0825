/** Steps of the requester page that several browser tests share. */
import type { Page } from 'playwright-core';

/** Picks the team and types the request (the form, before sending). */
export async function fillForm(page: Page, text: string, team = 'Legal help'): Promise<void> {
  await page.getByRole('radio', { name: team }).check();
  await page.locator('#message').fill(text);
}

/** Sends the form and waits for the "sent" screen; @returns the passphrase it shows. */
export async function sendAndReadPassphrase(page: Page): Promise<string> {
  await page.locator('#send').click();
  return readPassphrase(page);
}

/** Waits for the "sent" screen (the proof of work may take a while); @returns the passphrase it shows. */
export async function readPassphrase(page: Page): Promise<string> {
  await page.locator('#sent').waitFor({ state: 'visible', timeout: 90_000 });
  return (await page.locator('#passphrase-out').textContent())!.trim();
}

/** Comes back with the passphrase and waits for the thread. */
export async function openThread(page: Page, passphrase: string): Promise<void> {
  await page.locator('#passphrase-in').fill(passphrase);
  await page.locator('#open').click();
  await page.locator('#thread').waitFor({ state: 'visible', timeout: 60_000 });
}

/**
 * Leaves the "sent" screen the only way it can be left: "I have written it down", then the two
 * words the check asks for (read from the labels it shows), typed as `mangle` says.
 */
export async function passCheck(page: Page, passphrase: string, mangle: (w: string) => string = (w) => w): Promise<void> {
  const words = passphrase.split(' ');
  await page.locator('#written').click();
  await page.locator('#check-form').waitFor({ state: 'visible' });
  for (const id of ['a', 'b']) {
    const n = Number(/\d+/.exec((await page.locator(`#check-${id}-label`).textContent())!)![0]);
    await page.locator(`#check-${id}`).fill(mangle(words[n - 1]!));
  }
  await page.locator('#check').click();
}

/**
 * The no-JavaScript page (`/plain`): sends a request to `team` and waits for the answer (the
 * passphrase, or the "fresh form" page a resent form gets). `click` may be a double click.
 */
export async function sendNoJsRequest(page: Page, base: string, team: string, text: string, click: 'click' | 'dblclick' = 'click'): Promise<void> {
  await page.goto(`${base}/plain`);
  await page.locator(`input[name="team"][value="${team}"]`).check();
  await page.locator('#ns-message').fill(text);
  await page.locator('#ns-send')[click]();
  await page.locator('#passphrase-out, #ns-fresh').first().waitFor();
}

/** The no-JavaScript page: opens the thread of `passphrase` with the button labelled `open` (the page's language). */
export async function openNoJsThread(page: Page, base: string, passphrase: string, open: string): Promise<void> {
  await page.goto(`${base}/plain`);
  await page.locator('#ns-passphrase').fill(passphrase);
  await page.getByRole('button', { name: open }).click();
}

/** The no-JavaScript thread page: sends a follow-up, typing the passphrase again as that form asks. */
export async function sendNoJsFollowUp(page: Page, text: string, passphrase: string, send: string): Promise<void> {
  await page.locator('#ns-followup-message').fill(text);
  await page.locator('#ns-followup-passphrase').fill(passphrase);
  await page.getByRole('button', { name: send }).click();
}
