// Pluto-Duck web UI: plain JavaScript against the HTTP API (same origin, no build step).
// Server data reaches the page only through textContent and attributes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 100;
const QUERY_FINAL_EVENTS = ["succeeded", "failed", "cancelled", "timed_out", "interrupted"].map((s) => `query.${s}`);
const AGENT_FINAL_EVENTS = ["succeeded", "failed", "cancelled", "interrupted"].map((s) => `agent.${s}`);
const STATUS_MARK = { succeeded: "✓", failed: "✗", cancelled: "⊘", timed_out: "⏱", interrupted: "✗", queued: "…", running: "…" };
const DOWNLOAD_FORMATS = ["csv", "json", "parquet", "arrow"];
const NUMERIC_TYPE = /^(U?(TINY|SMALL|BIG|HUGE)INT|U?INTEGER|DECIMAL\(.*\)|DOUBLE|FLOAT|REAL)$/;

let currentRun = null; // run id of the query in flight, for Cancel
let cancelRequested = false; // the user pressed Cancel for currentRun
let result = null; // the result on screen: {runId, columns, rows, total, spooled, offset}
let pageRequest = 0; // increases with every page shown; a late page answer for an older one is dropped
let tableRequest = 0; // the same for table details
let agentRun = null; // run id of the question in flight, for Stop
let conversationId = null; // follow-up questions continue this conversation

// The API token (server.api_token), when the server has one: asked for on the first 401 and kept
// for this tab only.
const TOKEN_KEY = "pluto-duck.api-token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";

function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function responseError(res) {
  const body = await res.json().catch(() => ({}));
  const e = body.error || { message: `HTTP ${res.status}` };
  const err = new Error(e.message + (e.hint ? `\n${e.hint}` : ""));
  err.status = res.status;
  if (res.status === 401) askForToken();
  return err;
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...authHeaders() };
  const res = await fetch(path, { ...options, headers });
  if (!res.ok) throw await responseError(res);
  return res.json();
}

const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body ?? {}) });

function errorText(error) {
  if (!error) return "";
  return error.message + (error.hint ? `\n${error.hint}` : "");
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function showAskError(message) {
  $("ask-error").hidden = !message;
  $("ask-error").textContent = message || "";
}

const quoteIdent = (s) => `"${s.replaceAll('"', '""')}"`;

function cellText(v) {
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// Fills `table` with a header row of `columns` ({name, type}) and `rows` (arrays of JSON values).
function renderTable(table, columns, rows) {
  table.replaceChildren();
  if (columns.length === 0) return;
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c.name;
    th.title = c.type;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((v, i) => {
      const td = tr.insertCell();
      if (v === null) {
        td.textContent = "NULL";
        td.className = "null";
      } else {
        td.textContent = cellText(v);
        if (NUMERIC_TYPE.test(columns[i].type)) td.className = "num";
      }
    });
  }
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Follows an SSE stream until one of `finals` arrives; resolves with that event's data plus its type,
// or null when the stream cannot be followed to its end. `handlers` maps other event types to
// callbacks. fetch rather than EventSource, which cannot send the Authorization header; a dropped
// connection resumes after the last event seen (Last-Event-ID).
async function followStream(url, finals, handlers = {}) {
  let lastId = null;
  for (let failures = 0; failures < 5; failures++) {
    let reader = null;
    try {
      const headers = { Accept: "text/event-stream", ...authHeaders() };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      const res = await fetch(url, { headers, cache: "no-store" });
      if (!res.ok) throw await responseError(res);
      reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let type = "";
      let data = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          if (line === "") {
            // A blank line ends an event.
            if (data.length > 0) {
              const event = JSON.parse(data.join("\n"));
              const eventType = type || "message";
              failures = 0;
              if (finals.includes(eventType)) {
                reader.cancel().catch(() => {});
                return { type: eventType, ...event.data };
              }
              if (handlers[eventType]) handlers[eventType](event.data);
            }
            type = "";
            data = [];
            continue;
          }
          if (line.startsWith(":")) continue; // a comment (keepalive)
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") type = val;
          else if (field === "data") data.push(val);
          else if (field === "id") lastId = val;
        }
      }
    } catch (e) {
      if (e.status) throw e; // the server answered with an error: retrying will not help
    }
    await delay(200 * (failures + 1));
  }
  return null;
}

// ---- queries ----

function clearResult() {
  result = null;
  pageRequest++;
  $("downloads").hidden = true;
  $("pager").hidden = true;
  $("result").replaceChildren();
}

function setRunning(running) {
  $("run").disabled = running;
  $("cancel").disabled = !running || currentRun === null;
}

async function runQuery(event) {
  event.preventDefault();
  if ($("run").disabled) return;
  const sql = $("sql").value;
  if (!sql.trim()) {
    showError("Write a SQL statement to run.");
    return;
  }
  showError("");
  clearResult();
  setRunning(true);
  $("status").textContent = "running…";
  try {
    let view;
    if ($("safe").checked) {
      view = await post("/api/v1/query", { sql, mode: "safe" });
    } else {
      const started = await post("/api/v1/query", { sql, async: true });
      currentRun = started.run_id;
      cancelRequested = false;
      setRunning(true);
      view = await waitForRun(started.run_id, started.events_url);
    }
    await showRun(view);
  } catch (e) {
    showError(e.message);
    $("status").textContent = "";
  } finally {
    currentRun = null;
    setRunning(false);
    loadHistory();
    loadTables();
  }
}

// Progress of the run in flight, unless the user has asked to cancel it.
function showProgress(text) {
  if (currentRun !== null && !cancelRequested) $("status").textContent = text;
}

// Follows the run's events until its final one, then fetches the run with its first page of rows.
async function waitForRun(runId, eventsUrl) {
  const final = await followStream(eventsUrl, QUERY_FINAL_EVENTS, {
    "query.started": () => showProgress("running…"),
    // DuckDB reports -1 when it cannot estimate progress.
    "query.progress": (d) => {
      if (typeof d.progress === "number" && d.progress >= 0) showProgress(`running… ${Math.round(d.progress * 100)}%`);
    },
    "query.waiting": (d) => showProgress(d.reason),
  });
  const stored = final && final.status === "succeeded" && final.result && final.result.spooled;
  const view = await api(`/api/v1/query/${encodeURIComponent(runId)}${stored ? `?offset=0&limit=${PAGE_SIZE}` : ""}`);
  if (view.status === "queued" || view.status === "running") {
    throw new Error(`Lost the run's event stream while it is ${view.status}; History shows how it ends.`);
  }
  return view;
}

async function showRun(view) {
  if (view.status !== "succeeded") {
    const label = view.status.replace("_", " ");
    if (view.status === "cancelled") {
      $("status").textContent = "cancelled";
    } else {
      $("status").textContent = label;
      showError(`${label}: ${errorText(view.error)}`);
    }
    return;
  }
  result = {
    runId: view.run_id,
    columns: view.columns,
    rows: view.rows,
    spooled: view.spooled,
    // A stored result pages through the server; otherwise only the rows in the answer exist.
    total: view.spooled ? view.row_count : view.rows.length,
    offset: 0,
  };
  const count = view.row_count ?? view.rows.length;
  let status = view.columns.length === 0 ? "done" : `${count} ${count === 1 ? "row" : "rows"}`;
  if (!view.spooled && view.truncated) status += ` (first ${view.rows.length} shown)`;
  $("status").textContent = `${status} in ${view.duration_ms} ms`;
  if (view.spooled) {
    for (const f of DOWNLOAD_FORMATS) {
      $(`dl-${f}`).href = `/api/v1/query/${encodeURIComponent(view.run_id)}?format=${f}`;
    }
    $("downloads").hidden = false;
  }
  await showPage(0);
}

async function showPage(offset) {
  const r = result;
  if (!r) return;
  const request = ++pageRequest;
  const lastPage = Math.max(0, Math.floor((r.total - 1) / PAGE_SIZE) * PAGE_SIZE);
  offset = Math.min(Math.max(0, offset), lastPage);
  const end = Math.min(offset + PAGE_SIZE, r.total);
  let rows;
  if (end <= r.rows.length) {
    rows = r.rows.slice(offset, end);
  } else {
    for (const b of ["first", "prev", "next", "last"]) $(`page-${b}`).disabled = true;
    try {
      const page = await api(`/api/v1/query/${encodeURIComponent(r.runId)}?offset=${offset}&limit=${PAGE_SIZE}`);
      rows = page.rows;
    } catch (e) {
      if (request === pageRequest) showError(e.message);
      offset = r.offset;
      rows = null;
    }
  }
  if (request !== pageRequest) return;
  if (rows !== null) {
    r.offset = offset;
    renderTable($("result"), r.columns, rows);
  }
  const shown = $("result").tBodies[0] ? $("result").tBodies[0].rows.length : 0;
  $("pager").hidden = r.total <= PAGE_SIZE;
  $("page-info").textContent = `rows ${r.offset + 1}–${r.offset + shown} of ${r.total}`;
  $("page-first").disabled = $("page-prev").disabled = r.offset === 0;
  $("page-next").disabled = $("page-last").disabled = r.offset >= lastPage;
}

async function cancelRun() {
  if (!currentRun) return;
  cancelRequested = true;
  $("cancel").disabled = true;
  $("status").textContent = "cancelling…";
  try {
    await post(`/api/v1/query/${encodeURIComponent(currentRun)}/cancel`);
  } catch (e) {
    // 409: the run finished before the cancel arrived; its outcome is shown as usual.
    if (e.status !== 409) showError(e.message);
  }
}

// A link cannot send the Authorization header: with a token, the download goes through fetch and
// is saved from memory instead.
async function downloadWithToken(event) {
  if (!token) return;
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const res = await fetch(link.href, { headers: authHeaders() });
    if (!res.ok) throw await responseError(res);
    const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name ? name[1] : "";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    showError(e.message);
  }
}

// ---- tables ----

async function loadTables() {
  try {
    const { tables } = await api("/api/v1/catalog/tables");
    const seen = new Map();
    for (const t of tables) seen.set(t.name, (seen.get(t.name) || 0) + 1);
    const list = $("tables");
    list.replaceChildren();
    for (const t of tables) {
      const full = `${t.database}.${t.schema}.${t.name}`;
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "item";
      // The short name unless another schema or database has a table of the same name.
      button.textContent = `${seen.get(t.name) > 1 ? full : t.name}${t.row_count !== null ? ` (${t.row_count})` : ""}`;
      button.title = `${full} · ${t.kind}`;
      button.onclick = () => showTable(t);
      li.appendChild(button);
      list.appendChild(li);
    }
  } catch (e) {
    showError(e.message);
  }
}

async function showTable(t) {
  const request = ++tableRequest;
  const full = `${t.database}.${t.schema}.${t.name}`;
  try {
    const d = await api(`/api/v1/catalog/tables/${encodeURIComponent(full)}`);
    if (request !== tableRequest) return;
    $("detail-name").textContent = d.name;
    const rows = d.row_count !== null ? ` · ${d.row_count} rows` : "";
    $("detail-meta").textContent = `${d.kind} in ${d.database}.${d.schema}${rows} · ${d.column_count} columns`;
    $("detail-comment").textContent = d.comment || "";
    $("detail-comment").hidden = !d.comment;
    const colHeader = ["column", "type", "nullable", "comment"].map((name) => ({ name, type: "VARCHAR" }));
    renderTable($("detail-columns"), colHeader,
      d.columns.map((c) => [c.name, c.type, c.nullable ? "yes" : "no", c.comment || ""]));
    if (d.sample) renderTable($("detail-sample"), d.sample.columns, d.sample.rows);
    else $("detail-sample").replaceChildren();
    $("detail-query").onclick = () => {
      $("sql").value = `SELECT * FROM ${quoteIdent(d.database)}.${quoteIdent(d.schema)}.${quoteIdent(d.name)} LIMIT 100`;
      $("sql").focus();
    };
    $("table-detail").hidden = false;
  } catch (e) {
    if (request === tableRequest) showError(e.message);
  }
}

// ---- history ----

async function loadHistory() {
  try {
    const { queries } = await api("/api/v1/query?limit=20");
    const list = $("history");
    list.replaceChildren();
    for (const q of queries) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "item";
      button.dataset.status = q.status;
      button.textContent = `${STATUS_MARK[q.status] || "?"} ${q.sql}`;
      const took = q.duration_ms !== null ? ` · ${q.duration_ms} ms` : "";
      button.title = `${q.status} · ${q.submitted_at}${took} · ${q.origin}`;
      button.onclick = () => {
        $("sql").value = q.sql;
        $("sql").focus();
      };
      li.appendChild(button);
      list.appendChild(li);
    }
  } catch (e) {
    showError(e.message);
  }
}

// ---- questions to the agent ----

async function ask(event) {
  event.preventDefault();
  if ($("ask").disabled) return;
  const question = $("question").value.trim();
  if (!question) return;
  showAskError("");
  $("answer").hidden = true;
  $("answer-text").textContent = "";
  $("answer-sql").textContent = "";
  $("answer-rows").replaceChildren();
  $("ask").disabled = true;
  $("ask-status").textContent = "thinking…";
  try {
    const body = { question };
    if (conversationId) body.conversation_id = conversationId;
    const started = await post("/api/v1/agent/run", body);
    agentRun = started.run_id;
    conversationId = started.conversation_id;
    $("ask-new").hidden = false;
    $("ask-stop").disabled = false;
    await followStream(started.events_url, AGENT_FINAL_EVENTS, {
      "agent.sql": (d) => {
        $("ask-status").textContent = `running SQL (attempt ${d.attempt})…`;
        $("answer-sql").textContent = d.sql;
      },
      "agent.retry": (d) => { $("ask-status").textContent = `retrying: ${d.reason}`; },
      "agent.answer_delta": (d) => {
        $("answer-text").textContent += d.text;
        $("answer").hidden = false;
      },
    });
    showAgentRun(await api(`/api/v1/agent/${encodeURIComponent(started.run_id)}`));
  } catch (e) {
    showAskError(e.message);
    $("ask-status").textContent = "";
  } finally {
    agentRun = null;
    $("ask").disabled = false;
    $("ask-stop").disabled = true;
    loadHistory();
  }
}

function showAgentRun(run) {
  $("ask-status").textContent = run.status === "succeeded" ? "" : run.status;
  if (run.status === "failed" || run.status === "interrupted") showAskError(errorText(run.error) || run.status);
  if (!run.answer && !run.sql) return;
  $("answer-text").textContent = run.answer || "";
  $("answer-sql").textContent = run.sql || "";
  $("answer-sql").hidden = !run.sql;
  $("answer-open").hidden = !run.sql;
  $("answer-open").onclick = () => {
    $("sql").value = run.sql;
    $("sql").focus();
  };
  if (run.result && run.result.columns) renderTable($("answer-rows"), run.result.columns, run.result.rows);
  $("answer").hidden = false;
}

async function stopAsking() {
  if (!agentRun) return;
  $("ask-stop").disabled = true;
  try {
    await post(`/api/v1/agent/${encodeURIComponent(agentRun)}/cancel`);
  } catch (e) {
    if (e.status !== 409) showAskError(e.message);
  }
}

function newConversation() {
  conversationId = null;
  $("ask-new").hidden = true;
  $("answer").hidden = true;
  showAskError("");
  $("question").value = "";
  $("question").focus();
}

// ---- API token ----

function askForToken() {
  $("token-form").hidden = false;
  $("token").focus();
}

async function useToken(event) {
  event.preventDefault();
  token = $("token").value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  $("token").value = "";
  $("token-form").hidden = true;
  showError("");
  await connect();
}

// ---- start ----

async function connect() {
  $("health").textContent = "connecting…";
  try {
    const h = await api("/api/v1/health");
    $("health").textContent = `v${h.version} · DuckDB ${h.duckdb}`;
  } catch (e) {
    $("health").textContent = e.status === 401 ? "API token needed" : "API unreachable";
    showError(e.message);
    return;
  }
  loadTables();
  loadHistory();
}

function init() {
  $("query-form").addEventListener("submit", runQuery);
  $("cancel").addEventListener("click", cancelRun);
  $("sql").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("query-form").requestSubmit();
    }
  });
  $("page-first").addEventListener("click", () => showPage(0));
  $("page-prev").addEventListener("click", () => showPage(result.offset - PAGE_SIZE));
  $("page-next").addEventListener("click", () => showPage(result.offset + PAGE_SIZE));
  $("page-last").addEventListener("click", () => showPage(result.total));
  $("detail-close").addEventListener("click", () => { $("table-detail").hidden = true; });
  $("ask-form").addEventListener("submit", ask);
  $("ask-stop").addEventListener("click", stopAsking);
  $("ask-new").addEventListener("click", newConversation);
  $("token-form").addEventListener("submit", useToken);
  for (const f of DOWNLOAD_FORMATS) $(`dl-${f}`).addEventListener("click", downloadWithToken);
  connect();
}

init();
