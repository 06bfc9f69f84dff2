// Runs axe-core on local pages in one headless Chromium (the system's, through puppeteer-core): each job is a
// file at a viewport width, in light or dark colour scheme. One browser for every job, since starting Chromium
// costs more than checking a page.
//
// usage: node axe-run.mjs JOBS.json
//   JOBS.json: {"chromium": path, "profile": dir, "parallel": n, "jobs": [{file, width, dark}]}
//   (chromium: scripts/validators/chromium, which adds the flags this machine needs)
// prints {"results": [{file, width, dark, violations: [{id, impact, help, tags, targets}]}]} on stdout.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

// One page per file: loaded and given axe once, then checked at each of its jobs' widths and colour schemes
// (loading and injecting axe cost a third of a check).
async function checkFile(browser, file, jobs) {
  const page = await browser.newPage();
  try {
    await page.setViewport({ width: jobs[0].width, height: 900 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: jobs[0].dark ? "dark" : "light" }]);
    // nothing leaves the machine: a page's remote images, fonts or scripts are refused
    await page.setRequestInterception(true);
    page.on("request", (r) => (r.url().startsWith("file:") || r.url().startsWith("data:") ? r.continue() : r.abort()));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 60000 });
    await page.evaluate(AXE_SOURCE); // evaluated over the protocol: a page's Content-Security-Policy cannot block it
    const results = [];
    for (const job of jobs) {
      await page.setViewport({ width: job.width, height: 900 });
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: job.dark ? "dark" : "light" }]);
      const found = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      const violations = found.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, tags: v.tags,
        targets: v.nodes.map((n) => ({ target: n.target.map(String).join(" "), summary: n.failureSummary || "" })),
      }));
      results.push({ ...job, violations });
    }
    return results;
  } finally {
    await page.close();
  }
}

const spec = JSON.parse(await readFile(process.argv[2], "utf8"));
const browser = await puppeteer.launch({
  executablePath: spec.chromium, headless: true, userDataDir: spec.profile, timeout: 60000, protocolTimeout: 600000,
});
try {
  const byFile = new Map();
  for (const job of spec.jobs) byFile.set(job.file, [...(byFile.get(job.file) || []), job]);
  const files = [...byFile.entries()];
  const done = new Map();
  // `parallel` pages at once: each page has its own renderer process, so two use both cores
  const worker = async () => {
    for (let next = files.shift(); next; next = files.shift()) {
      const [file, jobs] = next;
      let results;
      try {
        results = await checkFile(browser, file, jobs);
      } catch (err) {
        // once more on a fresh page (a rare protocol hiccup under load), then the error names the file
        process.stderr.write(`axe-run: ${file}: ${err.message}; trying once more\n`);
        try {
          results = await checkFile(browser, file, jobs);
        } catch (again) {
          throw new Error(`${file}: ${again.message}`);
        }
      }
      results.forEach((r, i) => done.set(jobs[i], r));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, spec.parallel || 1) }, worker));
  process.stdout.write(JSON.stringify({ results: spec.jobs.map((job) => done.get(job)) }));
} finally {
  await browser.close();
}
