// The service's page: form a query, list matching files, request and download exports.
// Talks only to this service's REST API (same origin, the hub token is an HttpOnly cookie).
// State-changing requests carry the page's XSRF value (the service refuses them without).
"use strict";
const prefix = document.body.dataset.prefix;
const xsrf = document.querySelector("meta[name=xsrf-token]").content;
const api = (path) => `${prefix}/api/${path}`;
const $ = (sel) => document.querySelector(sel);
let lastQuery = {};

async function call(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.method && !["GET", "HEAD"].includes(options.method)) headers["X-XSRF-Token"] = xsrf;
  const reply = await fetch(api(path), { credentials: "same-origin", ...options, headers });
  const body = reply.headers.get("content-type")?.includes("json") ? await reply.json() : null;
  if (!reply.ok) throw new Error(body?.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : reply.statusText);
  return body;
}

function say(text, isError = false) {
  const m = $("#message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

function list(text) {
  return (text || "").split(",").map((s) => s.trim()).filter(Boolean);
}

function readQuery() {
  const f = new FormData($("#query"));
  const q = {};
  for (const key of ["start", "end", "release"]) if (f.get(key)) q[key] = f.get(key);
  for (const key of ["cluster", "station"]) if (f.get(key)) q[key] = Number(f.get(key));
  if (f.get("experiment")) q.experiment = [f.get("experiment")];
  if (f.get("facility")) q.facility = list(f.get("facility"));
  return { query: q, cuts: list(f.get("cuts")) };
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c ?? "";
    tr.appendChild(td);
  }
  return tr;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

async function search(event) {
  event.preventDefault();
  const { query, cuts } = readQuery();
  lastQuery = { query, cuts };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) (Array.isArray(v) ? v : [v]).forEach((x) => params.append(k, x));
  cuts.forEach((c) => params.append("cut", c));
  try {
    const page = await call(`files?${params}`);
    const body = $("#results tbody");
    body.replaceChildren(...page.files.map((f) => row([f.facility, f.release, f.path, f.start_utc,
      f.n_events, f.size_bytes, link(f.data_url, "download")])));
    say(`${page.files.length}${page.more ? "+" : ""} files`);
  } catch (err) {
    say(err.message, true);
  }
}

function deleteButton(id) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "delete-export";
  b.textContent = "delete";
  b.addEventListener("click", async () => {
    try {
      await call(`exports/${encodeURIComponent(id)}`, { method: "DELETE" });
      say(`export ${id} deleted`);
      await refreshExports();
    } catch (err) {
      say(err.message, true);
    }
  });
  return b;
}

async function refreshExports() {
  const mine = await call("exports");
  $("#exports tbody").replaceChildren(...mine.map((r) => row([r.id, r.status, r.n_events, r.size_bytes,
    r.expires_utc, r.download_url ? link(r.download_url, "download") : (r.error || ""),
    deleteButton(r.id)])));
  return mine;
}

async function requestExport(event) {
  event.preventDefault();
  const f = new FormData($("#export"));
  const { query, cuts } = readQuery();
  try {
    const r = await call("exports", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: f.get("format"), query, cuts, quantities: list(f.get("quantities")) }) });
    say(`export ${r.id} ${r.status}`);
    for (let i = 0; i < 600; i++) {
      const mine = await refreshExports();
      const current = mine.find((x) => x.id === r.id);
      if (current && !["queued", "running"].includes(current.status)) {
        say(`export ${r.id} ${current.status}${current.error ? ": " + current.error : ""}`, current.status !== "done");
        return;
      }
      await new Promise((ok) => setTimeout(ok, 250));
    }
  } catch (err) {
    say(err.message, true);
  }
}

async function init() {
  try {
    const me = await call("whoami");
    $("#whoami").textContent = `${me.name} (${["public", ...me.groups].join(", ")})`;
    const storages = await call("storages");
    const select = $("select[name=experiment]");
    for (const e of [...new Set(storages.map((s) => s.experiment))]) select.add(new Option(e, e));
    const terms = await call("terms");
    $("#terms").textContent = terms.filter((t) => t.level === "event").map((t) => `${t.name} [${t.unit}]`).join(", ");
    await refreshExports();
    document.body.dataset.ready = "1";
  } catch (err) {
    say(err.message, true);
  }
}

$("#query").addEventListener("submit", search);
$("#export").addEventListener("submit", requestExport);
init();
