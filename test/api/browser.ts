// Debian's Chromium driven by playwright-core, as the approval page's tests use it: no browser
// download, no sandbox (root), none of Chromium's own background connections (closed network).
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the approval page's browser tests need Debian's Chromium. Run: bash scripts/ensure-chromium.sh`);
  }
  // playwright-core gives each launch a fresh, temporary user-data dir of its own.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface WatchedPage {
  page: Page;
  /** Script errors and console errors (a CSP violation shows up as one). */
  errors: string[];
}

export async function openPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`${msg.text()} (${msg.location().url})`);
  });
  return { page, errors };
}

/** Pastes the token into the page's form, as a person does, and waits for the pending list. */
export async function useToken(page: Page, token: string): Promise<void> {
  await page.getByLabel(/Bearer token/).fill(token);
  await page.getByRole("button", { name: "Use token" }).click();
}
