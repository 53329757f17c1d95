// Drives Debian's Firefox ESR over WebDriver BiDi (puppeteer-core, no browser download) for
// Python: one JSON command per line on stdin, one JSON answer per line on stdout.
//
//   {"id": 1, "op": "open", "url": "...", "width": 640, "height": 360, "init": ["js", ...]}
//   {"id": 2, "op": "eval", "page": 0, "expression": "(() => performance.now())()"}
//   {"id": 3, "op": "close", "page": 0}
//   answers: {"id": 1, "value": ...} or {"id": 1, "error": "..."}
//
// Each page is its own window in its own user context (background tabs would be throttled and
// paint no frames). Autoplay with sound is allowed by prefs, as a kiosk or a viewer who allowed
// it would have it.

import readline from "node:readline";
import puppeteer from "puppeteer-core";

const PREFS = {
  "media.autoplay.default": 0, // allow audible autoplay
  "media.autoplay.blocking_policy": 0,
  "media.block-autoplay-until-in-foreground": false,
  "media.suspend-background-video.enabled": false,
  "dom.min_background_timeout_value": 4,
  "browser.shell.checkDefaultBrowser": false,
};

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX || "/usr/bin/firefox-esr",
  headless: process.env.FIREFOX_HEADLESS !== "0",
  extraPrefsFirefox: PREFS,
  protocolTimeout: 60_000,
});
const pages = [];

async function open({ url, width = 640, height = 360, init = [] }) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage({ type: "window", windowBounds: { width, height } });
  await page.setViewport({ width, height });
  for (const source of init) await page.evaluateOnNewDocument(source);
  pages.push({ page, context });
  await page.goto(url, { waitUntil: "load" });
  return pages.length - 1;
}

const handlers = {
  version: async () => browser.version(),
  open,
  eval: async ({ page, expression }) => pages[page].page.evaluate(expression),
  close: async ({ page }) => {
    await pages[page].context.close();
    pages[page] = null;
    return null;
  },
};

const say = (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`);

say({ ready: true });
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  if (command.op === "quit") break;
  try {
    say({ id: command.id, value: (await handlers[command.op](command)) ?? null });
  } catch (error) {
    say({ id: command.id, error: String(error?.message ?? error) });
  }
}
await browser.close();
