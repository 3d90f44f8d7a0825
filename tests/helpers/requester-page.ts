/** Steps of the requester page that several browser tests share. */
import type { Page } from 'playwright-core';

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
