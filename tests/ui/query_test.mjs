// The SQL editor in a real browser: run (button and Ctrl+Enter), errors, cancel, paging, history,
// downloads and safe mode, against the real server on the sample shop data.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { SOURCE_DIR, cli, eventually, launchBrowser, openUi, startServer, tableHeader, tableRows, tempDir, textOf } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function typeSql(page, sql) {
  await page.locator("#sql").fill(sql);
}

async function run(page, sql) {
  await typeSql(page, sql);
  await page.getByRole("button", { name: "Run" }).click();
}

test("Run shows the exact result of a query", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  await run(page, "SELECT count(*) AS n FROM customers");
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  assert.deepEqual(await tableHeader(page.locator("#result")), ["n"]);
  assert.deepEqual(await tableRows(page.locator("#result")), [["500"]]);
  assert.equal(await page.locator("#error").isHidden(), true);
  assert.equal(await page.locator("#pager").isHidden(), true, "one row needs no pager");
  await ui.close();
});

test("Ctrl+Enter in the editor runs the query", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  const sql = "SELECT country, count(*) AS n FROM customers GROUP BY country ORDER BY n DESC, country LIMIT 2";
  await typeSql(page, sql);
  await page.locator("#sql").press("Control+Enter");
  await textOf(page.locator("#status"), /^2 rows in \d+ ms$/);
  assert.deepEqual(await tableHeader(page.locator("#result")), ["country", "n"]);
  assert.deepEqual(await tableRows(page.locator("#result")), [
    ["United States", "153"],
    ["United Kingdom", "76"],
  ]);
  assert.equal(await page.locator("#sql").inputValue(), sql, "the shortcut does not type a newline");
  await ui.close();
});

test("a bad statement shows the server's error message", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  await run(page, "SELEC 1");
  await textOf(page.locator("#error"), /^failed: Parser Error: syntax error at or near "SELEC"/);
  await page.locator("#error").waitFor({ state: "visible" });
  assert.equal(await page.locator("#status").textContent(), "failed");
  assert.equal(await page.locator("#result tr").count(), 0, "no result table for a failed query");
  assert.equal(await page.getByRole("button", { name: "Run" }).isEnabled(), true);

  // The next good query clears the error.
  await run(page, "SELECT 1 AS one");
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  assert.equal(await page.locator("#error").isHidden(), true);
  await ui.close();
});

test("a long query can be cancelled from the UI", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  // Far longer than any test run (and than query.timeout_seconds): only the cancel can end it.
  const sql = "SELECT count(*) FROM range(10000000000000)";
  await run(page, sql);
  const cancel = page.getByRole("button", { name: "Cancel" });
  await eventually(async () => assert.equal(await cancel.isEnabled(), true));
  assert.equal(await page.getByRole("button", { name: "Run" }).isDisabled(), true, "Run is disabled while running");
  await cancel.click();
  await textOf(page.locator("#status"), "cancelled");
  assert.equal(await page.locator("#error").isHidden(), true, "a cancel the user asked for is not an error");
  assert.equal(await page.getByRole("button", { name: "Run" }).isEnabled(), true);
  assert.equal(await cancel.isDisabled(), true);
  // History records it as cancelled.
  const item = page.locator("#history button").filter({ hasText: sql }).first();
  await eventually(async () => assert.equal(await item.getAttribute("data-status"), "cancelled"));
  await ui.close();
});

test("a large result pages through the stored rows", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  const result = page.locator("#result");
  const info = page.locator("#page-info");
  const firstCells = async () => (await tableRows(result)).map((r) => r[0]);
  const range = (from, to) => Array.from({ length: to - from }, (_, i) => String(from + i));

  await run(page, "SELECT i, i * 2 AS twice FROM range(250) t(i) ORDER BY i");
  await textOf(page.locator("#status"), /^250 rows in \d+ ms$/);
  await textOf(info, "rows 1–100 of 250");
  assert.deepEqual(await firstCells(), range(0, 100));
  assert.deepEqual((await tableRows(result))[7], ["7", "14"]);
  assert.equal(await page.getByRole("button", { name: "‹ Previous" }).isDisabled(), true);

  await page.getByRole("button", { name: "Next ›" }).click();
  await textOf(info, "rows 101–200 of 250");
  assert.deepEqual(await firstCells(), range(100, 200));

  await page.getByRole("button", { name: "Next ›" }).click();
  await textOf(info, "rows 201–250 of 250");
  assert.deepEqual(await firstCells(), range(200, 250));
  assert.equal(await page.getByRole("button", { name: "Next ›" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Last page" }).isDisabled(), true);

  await page.getByRole("button", { name: "‹ Previous" }).click();
  await textOf(info, "rows 101–200 of 250");
  await page.getByRole("button", { name: "First page" }).click();
  await textOf(info, "rows 1–100 of 250");
  assert.deepEqual(await firstCells(), range(0, 100));

  // Past query.max_rows (10000 rows answered inline): the last page still comes from the stored result.
  await run(page, "SELECT i FROM range(25000) t(i) ORDER BY i");
  await textOf(page.locator("#status"), /^25000 rows in \d+ ms$/);
  await textOf(info, "rows 1–100 of 25000");
  await page.getByRole("button", { name: "Last page" }).click();
  await textOf(info, "rows 24901–25000 of 25000");
  assert.deepEqual(await firstCells(), range(24900, 25000));
  await page.getByRole("button", { name: "‹ Previous" }).click();
  await textOf(info, "rows 24801–24900 of 25000");
  assert.deepEqual(await firstCells(), range(24800, 24900));
  await ui.close();
});

test("history lists the query just run, and clicking it puts it back in the editor", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  const sql = `SELECT 'history probe ${Date.now()}' AS probe`;
  await run(page, sql);
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  const item = page.locator("#history button").first();
  await textOf(item, `✓ ${sql}`);
  assert.equal(await item.getAttribute("data-status"), "succeeded");
  assert.match(await item.getAttribute("title"), /^succeeded · /);

  // A failed run is listed as failed.
  await run(page, "SELECT * FROM no_such_table");
  await textOf(page.locator("#status"), "failed");
  await textOf(page.locator("#history button").first(), "✗ SELECT * FROM no_such_table");
  assert.equal(await page.locator("#history button").first().getAttribute("data-status"), "failed");

  await typeSql(page, "");
  await page.locator("#history button").filter({ hasText: sql }).click();
  assert.equal(await page.locator("#sql").inputValue(), sql);
  await ui.close();
});

async function download(page, linkName) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: linkName }).click()]);
  const file = await dl.path();
  assert.ok(file, `the ${linkName} download failed: ${await dl.failure()}`);
  return { name: dl.suggestedFilename(), file };
}

test("download links save the whole result as CSV, JSON, Parquet and Arrow", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  assert.equal(await page.locator("#downloads").isHidden(), true, "no downloads before a result");
  await run(page, "SELECT customer_id, country FROM customers ORDER BY customer_id LIMIT 3");
  await textOf(page.locator("#status"), /^3 rows in \d+ ms$/);
  await page.locator("#downloads").waitFor({ state: "visible" });

  const csv = await download(page, "CSV");
  assert.match(csv.name, /\.csv$/);
  assert.equal(readFileSync(csv.file, "utf8"), "customer_id,country\n1,United States\n2,Brazil\n3,Germany\n");

  const json = await download(page, "JSON");
  assert.match(json.name, /\.json$/);
  assert.deepEqual(JSON.parse(readFileSync(json.file, "utf8")), [
    { customer_id: 1, country: "United States" },
    { customer_id: 2, country: "Brazil" },
    { customer_id: 3, country: "Germany" },
  ]);

  const parquet = await download(page, "Parquet");
  assert.match(parquet.name, /\.parquet$/);
  const bytes = readFileSync(parquet.file);
  assert.equal(bytes.subarray(0, 4).toString(), "PAR1");
  // Read it back with DuckDB (the CLI on a scratch data dir): the same rows.
  const scratch = tempDir("pluto-ui-parquet-");
  const copy = path.join(scratch, "result.parquet");
  copyFileSync(parquet.file, copy);
  const back = await cli(scratch, ["query", `SELECT * FROM read_parquet('${copy}')`, "--format", "json"]);
  assert.deepEqual(JSON.parse(back), [
    { customer_id: 1, country: "United States" },
    { customer_id: 2, country: "Brazil" },
    { customer_id: 3, country: "Germany" },
  ]);
  rmSync(scratch, { recursive: true, force: true });

  const arrow = await download(page, "Arrow");
  assert.match(arrow.name, /\.arrows$/);
  const { tableFromIPC } = await import(pathToFileURL(path.join(SOURCE_DIR, "tests/js/node_modules/apache-arrow/Arrow.node.mjs")).href);
  const table = tableFromIPC(readFileSync(arrow.file));
  assert.deepEqual(table.schema.fields.map((f) => `${f.name} ${f.type}`), ["customer_id Int64", "country Utf8"]);
  assert.deepEqual(table.toArray().map((r) => [r.customer_id, r.country]), [
    [1n, "United States"],
    [2n, "Brazil"],
    [3n, "Germany"],
  ]);

  // A download holds every row, not only the page on screen.
  await run(page, "SELECT * FROM customers");
  await textOf(page.locator("#status"), /^500 rows in \d+ ms$/);
  await textOf(page.locator("#page-info"), "rows 1–100 of 500");
  const all = await download(page, "CSV");
  const lines = readFileSync(all.file, "utf8").trimEnd().split("\n");
  assert.equal(lines.length, 501);
  assert.equal(lines[0], "customer_id,first_name,last_name,email,country,city,signup_date,segment");
  await ui.close();
});

test("safe mode refuses a write and shows why", async () => {
  // The refusal is an HTTP 403, which the browser logs as a failed resource load.
  const ui = await openUi(browser, server.url, { allowErrors: [/status of 403/] });
  const { page } = ui;
  await page.getByLabel("safe mode").check();
  await run(page, "DROP TABLE customers");
  await page.locator("#error").waitFor({ state: "visible" });
  assert.match(await page.locator("#error").textContent(), /\S/);
  assert.equal(await page.locator("#status").textContent(), "");

  await run(page, "SELECT count(*) AS n FROM customers");
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  assert.deepEqual(await tableRows(page.locator("#result")), [["500"]]);
  await ui.close();
});
