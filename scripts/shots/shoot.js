// Screenshots for the docs: node shoot.js JOBS.json — each job {url, out, width, height, dark, selector?}.
// Uses the Chromium and puppeteer-core the validators install (scripts/validators/install.sh).
const path = require("path");
const puppeteer = require(path.join(__dirname, "..", "validators", "node_modules", "puppeteer-core"));

(async () => {
  const jobs = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  for (const job of jobs) {
    const page = await browser.newPage();
    await page.setViewport({ width: job.width, height: job.height, deviceScaleFactor: 1 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: job.dark ? "dark" : "light" }]);
    await page.goto(job.url, { waitUntil: "load" });
    if (job.selector) {
      await page.evaluate((sel, offset) => {
        const el = document.querySelector(sel);
        if (el) window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - offset);
      }, job.selector, job.offset || 0);
    }
    await page.screenshot({ path: job.out });
    await page.close();
  }
  await browser.close();
})().catch((e) => { console.error(String(e)); process.exit(1); });
