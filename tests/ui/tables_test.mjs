// Loading the UI, the table list and table details in a real browser, and that names and values
// from the server are shown as text, never parsed as HTML.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, openUi, startServer, tableHeader, tableRows, textOf } from "./harness.mjs";

// A table whose name, column and values are HTML that would run script if parsed as markup.
const EVIL_TABLE = "<img src=x onerror=window.__xss=1>";
const EVIL_COLUMN = "<img src=x onerror=window.__xss=2>";
const EVIL_VALUE = "<script>window.__xss=3</script><img src=x onerror=window.__xss=4>";
const ident = (s) => `"${s.replaceAll('"', '""')}"`;

let server;
let browser;

before(async () => {
  server = await startServer({
    extraSql: `CREATE TABLE ${ident(EVIL_TABLE)} AS SELECT 7 AS ${ident(EVIL_COLUMN)}, '${EVIL_VALUE}' AS note;`,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Waits for the n-th match, then checks there are no more.
async function waitForCount(locator, n) {
  await locator.nth(n - 1).waitFor();
  assert.equal(await locator.count(), n);
}

test("the page loads without errors and lists the sample tables with row counts", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  assert.equal(await page.title(), "Pluto-Duck");
  const tables = page.locator("#tables button");
  await waitForCount(tables, 6);
  assert.deepEqual(await tables.allTextContents(), [
    `${EVIL_TABLE} (1)`,
    "customers (500)",
    "order_items (5098)",
    "orders (2000)",
    "payments (2000)",
    "products (60)",
  ]);
  assert.equal(await tables.filter({ hasText: "customers" }).getAttribute("title"), "warehouse.main.customers · table");
  assert.equal(await page.locator("#error").isHidden(), true);
  await ui.close();
});

test("clicking a table shows its columns and a sample, and can query it", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  const detail = page.locator("#table-detail");
  assert.equal(await detail.isHidden(), true);
  await page.locator("#tables button", { hasText: "customers (500)" }).click();
  await detail.waitFor({ state: "visible" });
  await textOf(page.locator("#detail-name"), "customers");
  assert.equal(await page.locator("#detail-meta").textContent(), "table in warehouse.main · 500 rows · 8 columns");
  const columns = await tableRows(page.locator("#detail-columns"));
  assert.deepEqual(
    columns.map((c) => [c[0], c[1]]),
    [
      ["customer_id", "BIGINT"],
      ["first_name", "VARCHAR"],
      ["last_name", "VARCHAR"],
      ["email", "VARCHAR"],
      ["country", "VARCHAR"],
      ["city", "VARCHAR"],
      ["signup_date", "DATE"],
      ["segment", "VARCHAR"],
    ],
  );
  assert.deepEqual(await tableHeader(page.locator("#detail-sample")), columns.map((c) => c[0]));
  const sample = await tableRows(page.locator("#detail-sample"));
  assert.equal(sample.length, 10);
  assert.deepEqual(sample[0].slice(0, 5), ["1", "Chris", "Davis", "chris.davis@example.org", "United States"]);

  // Another table replaces the details.
  await page.locator("#tables button", { hasText: "products (60)" }).click();
  await textOf(page.locator("#detail-name"), "products");
  await textOf(page.locator("#detail-meta"), "table in warehouse.main · 60 rows · 6 columns");

  await page.getByRole("button", { name: "Query this table" }).click();
  assert.equal(await page.locator("#sql").inputValue(), 'SELECT * FROM "warehouse"."main"."products" LIMIT 100');
  await page.getByRole("button", { name: "Run" }).click();
  await textOf(page.locator("#status"), /^60 rows in \d+ ms$/);

  await page.getByRole("button", { name: "Close table details" }).click();
  await detail.waitFor({ state: "hidden" });
  await ui.close();
});

test("table names, column names and values with HTML in them render as text", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  const evil = page.locator("#tables button", { hasText: EVIL_TABLE });
  await textOf(evil, `${EVIL_TABLE} (1)`);
  await evil.click();
  await textOf(page.locator("#detail-name"), EVIL_TABLE);
  assert.deepEqual((await tableRows(page.locator("#detail-columns"))).map((c) => c[0]), [EVIL_COLUMN, "note"]);
  assert.deepEqual(await tableHeader(page.locator("#detail-sample")), [EVIL_COLUMN, "note"]);
  assert.deepEqual(await tableRows(page.locator("#detail-sample")), [["7", EVIL_VALUE]]);

  await page.getByRole("button", { name: "Query this table" }).click();
  await page.getByRole("button", { name: "Run" }).click();
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  assert.deepEqual(await tableHeader(page.locator("#result")), [EVIL_COLUMN, "note"]);
  assert.deepEqual(await tableRows(page.locator("#result")), [["7", EVIL_VALUE]]);
  // The history shows the SQL, which names the table, as text too.
  await textOf(page.locator("#history button").first(), /^✓ SELECT \* FROM "warehouse"\."main"\."<img src=x/);

  // Nothing was parsed as markup: no element came from server data and no handler ran.
  assert.equal(await page.locator("img, script:not([src])").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await ui.close();
});
