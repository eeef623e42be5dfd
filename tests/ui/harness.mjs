// Browser test harness: the real `pluto-duck serve` on the bundled sample data (a temporary data
// dir, a random port) and Debian's chromium driven by playwright-core.
//
// Environment (set by tests/ui/CMakeLists.txt): PLUTO_BINARY (the pluto-duck executable),
// PLUTO_SOURCE_DIR (the repository; default: two folders up from here), optionally PLUTO_CHROMIUM
// (default /usr/bin/chromium).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const BINARY = process.env.PLUTO_BINARY;
export const SOURCE_DIR = process.env.PLUTO_SOURCE_DIR || fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.PLUTO_CHROMIUM || "/usr/bin/chromium";
const PLAYWRIGHT = SOURCE_DIR && path.join(SOURCE_DIR, "tests/js/node_modules/playwright-core/index.mjs");

// Guards against a hang, never the thing asserted: every wait below ends as soon as its condition holds.
export const WAIT_MS = 30_000;

const SAMPLE_TABLES = ["customers", "products", "orders", "order_items", "payments"];
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|SUMMARY: \w+Sanitizer/;

function checkEnvironment() {
  assert.ok(BINARY && existsSync(BINARY), `PLUTO_BINARY must name the pluto-duck binary (got ${BINARY})`);
  assert.ok(SOURCE_DIR && existsSync(SOURCE_DIR), `PLUTO_SOURCE_DIR must name the repository (got ${SOURCE_DIR})`);
  assert.ok(existsSync(PLAYWRIGHT), `${PLAYWRIGHT} is missing: run scripts/setup (installs tests/js/node_modules)`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup (apt package chromium)`);
}

const sqlLiteral = (s) => `'${s.replaceAll("'", "''")}'`;

// Runs the CLI against `dataDir` and resolves with its stdout; rejects with its output when it fails.
export function cli(dataDir, args) {
  exitOnSignals();
  const child = spawn(BINARY, ["--data-dir", dataDir, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.on("exit", kill);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => { stdout += d; });
  child.stderr.setEncoding("utf8").on("data", (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("exit", kill);
      if (code === 0) resolve(stdout);
      else reject(new Error(`pluto-duck ${args.join(" ")} exited ${code ?? signal}:\n${stdout}\n${stderr}`));
    });
  });
}

export function tempDir(prefix = "pluto-ui-") {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// A server on a fresh data dir holding the sample shop (as `make run` loads it: scripts/run) plus
// whatever `extraSql` creates. Call stop() at the end: it SIGTERMs the server and checks that it
// exited cleanly, with no sanitizer report.
// Ctrl-C or a kill ends the tests through process.exit, so the "exit" handlers stop the servers.
let signalsHandled = false;
function exitOnSignals() {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [signal, n] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]]) {
    process.once(signal, () => process.exit(128 + n));
  }
}

// `settings` are passed to serve as --set KEY=VALUE.
export async function startServer({ extraSql = "", settings = {} } = {}) {
  checkEnvironment();
  exitOnSignals();
  const dataDir = tempDir();
  let child = null;
  // Never leave the server or its data behind, whatever ends this process.
  const cleanUpOnExit = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on("exit", cleanUpOnExit);
  const sample = path.join(SOURCE_DIR, "data/sample/shop");
  const load = SAMPLE_TABLES.map(
    (t) => `CREATE OR REPLACE TABLE ${t} AS SELECT * FROM read_csv(${sqlLiteral(path.join(sample, `${t}.csv`))}, header = true);`,
  ).join("");
  await cli(dataDir, ["query", load + extraSql]);

  const sets = Object.entries(settings).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  child = spawn(BINARY, ["--data-dir", dataDir, "--json", ...sets, "serve", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print its URL within ${WAIT_MS} ms:\n${stderr}`)), WAIT_MS);
    child.stdout.setEncoding("utf8").on("data", (d) => {
      stdout += d;
      const nl = stdout.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout.slice(0, nl)).url.replace(/\/$/, ""));
      } catch (e) {
        reject(new Error(`unexpected first line from serve: ${stdout.slice(0, nl)}`));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before printing its URL:\n${stderr}`));
    });
  });

  let stopped = null;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const guard = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
      const { code, signal } = await exited;
      clearTimeout(guard);
      process.off("exit", cleanUpOnExit);
      rmSync(dataDir, { recursive: true, force: true });
      assert.ok(!SANITIZER_REPORT.test(stderr), `sanitizer report from the server:\n${stderr}`);
      assert.equal(code, 0, `server exited with ${code ?? signal} after SIGTERM:\n${stderr}`);
    })();
    return stopped;
  };
  return { url, dataDir, stop, stderr: () => stderr };
}

export async function launchBrowser() {
  checkEnvironment();
  const { chromium } = await import(pathToFileURL(PLAYWRIGHT).href);
  // --no-sandbox: the tests run as root; --disable-dev-shm-usage: containers often have a tiny /dev/shm.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"], headless: true });
}

// A fresh browser context and page on the UI, connected (the header shows the server's version)
// unless `connected` is false; collects console errors and uncaught page errors. close() fails the
// test when any appeared, except messages matching `allowErrors`.
export async function openUi(browser, url, { allowErrors = [], connected = true } = {}) {
  const context = await browser.newContext({ acceptDownloads: true });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  await page.goto(`${url}/`);
  if (connected) await page.locator("#health").filter({ hasText: /^v\S+ · DuckDB v/ }).waitFor();
  const close = async () => {
    await context.close();
    const unexpected = errors.filter((e) => !allowErrors.some((re) => re.test(e)));
    assert.deepEqual(unexpected, [], "the page logged errors");
  };
  return { page, context, errors, close };
}

// Retries `check` (which throws an assertion error while the condition does not hold) until it
// passes; after WAIT_MS it rethrows the last failure, so the message says what was seen.
export async function eventually(check, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Waits until the locator's text matches `expected` (a string: equal; a RegExp: matches).
export function textOf(locator, expected) {
  return eventually(async () => {
    const text = await locator.textContent();
    if (expected instanceof RegExp) assert.match(text ?? "", expected);
    else assert.equal(text, expected);
    return text;
  });
}

// The rows of a result <table> as arrays of cell texts (header excluded).
export function tableRows(locator) {
  return locator.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

export function tableHeader(locator) {
  return locator.locator("thead th").allTextContents();
}
