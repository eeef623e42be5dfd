// Pluto-Duck web UI: plain JavaScript against the HTTP API (same origin, no build step).
"use strict";

const $ = (id) => document.getElementById(id);
let currentRun = null;

async function api(path, options = {}) {
  const res = await fetch(path, { headers: { "Content-Type": "application/json" }, ...options });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = body.error || { message: `HTTP ${res.status}` };
    throw new Error(e.message + (e.hint ? `\n${e.hint}` : ""));
  }
  return body;
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function renderTable(columns, rows) {
  const table = $("result");
  table.replaceChildren();
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
        td.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
        if (/INT|DECIMAL|DOUBLE|FLOAT|HUGEINT/.test(columns[i].type)) td.className = "num";
      }
    });
  }
}

async function runQuery(event) {
  event.preventDefault();
  showError("");
  $("downloads").hidden = true;
  $("run").disabled = true;
  $("status").textContent = "running…";
  const sql = $("sql").value;
  try {
    let result;
    if ($("safe").checked) {
      result = await api("/api/v1/query", { method: "POST", body: JSON.stringify({ sql, mode: "safe" }) });
    } else {
      const started = await api("/api/v1/query", { method: "POST", body: JSON.stringify({ sql, async: true }) });
      currentRun = started.run_id;
      $("cancel").disabled = false;
      result = await waitForRun(started.run_id, started.events_url);
    }
    if (result.status !== "succeeded") {
      showError(`${result.status}: ${result.error ? result.error.message : ""}`);
      $("status").textContent = "";
      return;
    }
    renderTable(result.columns, result.rows);
    const shown = result.rows.length;
    $("status").textContent = `${result.row_count ?? shown} rows${result.truncated ? ` (${shown} shown)` : ""} in ${result.duration_ms} ms`;
    if (result.spooled) {
      for (const f of ["csv", "json", "parquet"]) $(`dl-${f}`).href = `/api/v1/query/${result.run_id}?format=${f}`;
      $("downloads").hidden = false;
    }
  } catch (e) {
    showError(e.message);
    $("status").textContent = "";
  } finally {
    $("run").disabled = false;
    $("cancel").disabled = true;
    currentRun = null;
    loadHistory();
    loadTables();
  }
}

// Follows the run's event stream until its final event, then fetches the result.
function waitForRun(runId, eventsUrl) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(eventsUrl);
    const finish = async () => {
      source.close();
      try {
        resolve(await api(`/api/v1/query/${runId}`));
      } catch (e) {
        reject(e);
      }
    };
    source.addEventListener("query.progress", (e) => {
      const p = JSON.parse(e.data).data.progress;
      $("status").textContent = `running… ${Math.round(p * 100)}%`;
    });
    source.addEventListener("query.waiting", (e) => {
      $("status").textContent = JSON.parse(e.data).data.reason;
    });
    for (const t of ["succeeded", "failed", "cancelled", "timed_out", "interrupted"]) {
      source.addEventListener(`query.${t}`, finish);
    }
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) finish(); };
  });
}

async function cancelRun() {
  if (!currentRun) return;
  try {
    await api(`/api/v1/query/${currentRun}/cancel`, { method: "POST" });
  } catch (e) {
    showError(e.message);
  }
}

async function loadTables() {
  try {
    const { tables } = await api("/api/v1/catalog/tables");
    const list = $("tables");
    list.replaceChildren();
    for (const t of tables) {
      const li = document.createElement("li");
      li.textContent = `${t.name}${t.row_count !== null ? ` (${t.row_count})` : ""}`;
      li.title = `${t.database}.${t.schema}.${t.name}`;
      li.onclick = () => {
        $("sql").value = `SELECT * FROM "${t.schema}"."${t.name.replaceAll('"', '""')}" LIMIT 100`;
      };
      list.appendChild(li);
    }
  } catch (e) {
    showError(e.message);
  }
}

async function loadHistory() {
  try {
    const { queries } = await api("/api/v1/query?limit=20");
    const list = $("history");
    list.replaceChildren();
    for (const q of queries) {
      const li = document.createElement("li");
      li.textContent = `${q.status === "succeeded" ? "✓" : "✗"} ${q.sql}`;
      li.title = `${q.status} · ${q.submitted_at}`;
      li.onclick = () => { $("sql").value = q.sql; };
      list.appendChild(li);
    }
  } catch (e) {
    showError(e.message);
  }
}

async function init() {
  $("query-form").addEventListener("submit", runQuery);
  $("cancel").addEventListener("click", cancelRun);
  try {
    const h = await api("/api/v1/health");
    $("health").textContent = `v${h.version} · DuckDB ${h.duckdb}`;
  } catch (e) {
    $("health").textContent = "API unreachable";
    showError(e.message);
  }
  loadTables();
  loadHistory();
}

init();
