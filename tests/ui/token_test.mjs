// A server with an API token (server.api_token): the UI asks for the token and then sends it with
// every API request, its event streams and its downloads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { launchBrowser, openUi, startServer, tableRows, textOf } from "./harness.mjs";

const TOKEN = "ui-test-token-7f3a9c";
let server;
let browser;

before(async () => {
  server = await startServer({ settings: { "server.api_token": TOKEN } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the UI asks for the API token, then works with it", async () => {
  // Requests without the right token answer 401, which the browser logs as failed loads.
  const ui = await openUi(browser, server.url, { connected: false, allowErrors: [/status of 401/] });
  const { page } = ui;
  const tokenField = page.getByLabel("API token");
  await tokenField.waitFor();
  await textOf(page.locator("#health"), "API token needed");
  await textOf(page.locator("#error"), /^missing or wrong API token/);
  assert.equal(await page.locator("#tables li").count(), 0);

  await tokenField.fill("wrong");
  await page.getByRole("button", { name: "Connect" }).click();
  await textOf(page.locator("#health"), "API token needed");
  await textOf(page.locator("#error"), /^missing or wrong API token/);
  await tokenField.waitFor();

  await tokenField.fill(TOKEN);
  await page.getByRole("button", { name: "Connect" }).click();
  await page.locator("#health").filter({ hasText: /^v\S+ · DuckDB v/ }).waitFor();
  await tokenField.waitFor({ state: "hidden" });
  await page.locator("#tables button", { hasText: "customers (500)" }).waitFor();
  assert.equal(await page.locator("#error").isHidden(), true);

  // A query follows its event stream with the token.
  await page.locator("#sql").fill("SELECT count(*) AS n FROM customers");
  await page.getByRole("button", { name: "Run" }).click();
  await textOf(page.locator("#status"), /^1 row in \d+ ms$/);
  assert.deepEqual(await tableRows(page.locator("#result")), [["500"]]);

  // So does a download.
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
  assert.match(dl.suggestedFilename(), /\.csv$/);
  assert.equal(readFileSync(await dl.path(), "utf8"), "n\n500\n");

  // The token lasts for the tab: a reload connects without asking again.
  await page.reload();
  await page.locator("#health").filter({ hasText: /^v\S+ · DuckDB v/ }).waitFor();
  await page.locator("#tables button", { hasText: "customers (500)" }).waitFor();
  assert.equal(await tokenField.isHidden(), true);
  await ui.close();
});
