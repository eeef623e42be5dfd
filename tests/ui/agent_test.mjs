// Asking the data agent a question from the UI (the offline provider, the default), a follow-up in
// the same conversation, and taking its SQL to the editor.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, launchBrowser, openUi, startServer, tableHeader, tableRows, textOf } from "./harness.mjs";

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

async function ask(page, question) {
  await page.getByLabel("Ask a question").fill(question);
  await page.getByLabel("Ask a question").press("Enter");
}

// The run has finished: its answer is shown and Ask is enabled again.
async function waitAnswered(page) {
  await page.locator("#answer").waitFor({ state: "visible" });
  const askButton = page.getByRole("button", { name: "Ask", exact: true });
  await eventually(async () => assert.equal(await askButton.isEnabled(), true));
}

test("asking how many customers there are answers 500, with the SQL it ran", async () => {
  const ui = await openUi(browser, server.url);
  const { page } = ui;
  await ask(page, "how many customers are there?");
  await waitAnswered(page);
  await textOf(page.locator("#answer-text"), "There are 500 customers.");
  const sql = await page.locator("#answer-sql").textContent();
  assert.match(sql, /^SELECT count\(\*\) AS \w+ FROM customers$/);
  assert.deepEqual(await tableRows(page.locator("#answer-rows")), [["500"]]);
  assert.equal(await page.locator("#ask-error").isHidden(), true);

  // A follow-up continues the conversation.
  await page.getByRole("button", { name: "New conversation" }).waitFor();
  await ask(page, "and per country?");
  await textOf(page.locator("#answer-text"), /^Number of customers per country: United States \(153\), United Kingdom \(76\)/);
  await waitAnswered(page);
  assert.deepEqual(await tableHeader(page.locator("#answer-rows")), ["country", "customer_count"]);
  assert.deepEqual((await tableRows(page.locator("#answer-rows")))[0], ["United States", "153"]);

  // Its SQL goes to the editor and runs there with the same result.
  const followUpSql = await page.locator("#answer-sql").textContent();
  await page.getByRole("button", { name: "Open in SQL editor" }).click();
  assert.equal(await page.locator("#sql").inputValue(), followUpSql);
  await page.getByRole("button", { name: "Run" }).click();
  await textOf(page.locator("#status"), /^8 rows in \d+ ms$/);
  assert.deepEqual((await tableRows(page.locator("#result")))[0], ["United States", "153"]);

  // New conversation: a clean slate.
  await page.getByRole("button", { name: "New conversation" }).click();
  assert.equal(await page.locator("#answer").isHidden(), true);
  assert.equal(await page.getByRole("button", { name: "New conversation" }).isHidden(), true);
  await ui.close();
});
