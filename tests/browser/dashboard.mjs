// Opens /dashboard in headless Chromium on a running server with traffic flowing, waits for
// the charts to draw from live data, fails on any console error or failed request, and
// saves a screenshot.
//
//   node dashboard.mjs <base-url> <admin-token> <screenshot.png>
import puppeteer from "puppeteer-core";

const [base, token, shot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const problems = [];

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    if (!r.url().startsWith(base)) problems.push(`outside request: ${r.url()}`);
  });
  await page.goto(`${base}/dashboard#token=${encodeURIComponent(token)}`, { waitUntil: "load" });
  // Charts are drawn from live data once two snapshots exist (two polls apart).
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  // Let more polls land (DASHBOARD_SETTLE_MS, default 2.5 s), then check what is on the page.
  await new Promise((r) => setTimeout(r, Number(process.env.DASHBOARD_SETTLE_MS || 2500)));
  const state = await page.evaluate(() => ({
    canvases: [...document.querySelectorAll("canvas")].filter((c) => c.width > 0 && c.height > 0).length,
    status: document.getElementById("status").textContent,
    figures: document.getElementById("figures").textContent,
    error: document.getElementById("error").textContent,
  }));
  console.log(`dashboard: ${state.canvases} charts, status ${state.status}, ${state.figures}`);
  if (state.canvases < 4) problems.push(`only ${state.canvases} charts drawn`);
  if (!["healthy", "degraded", "critical"].includes(state.status)) problems.push(`no status shown: ${state.status}`);
  if (state.error) problems.push(`error banner: ${state.error}`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
