// licensegw dashboard. The page asks for a token once and trades it for a
// session cookie (POST /ui/login); then the state comes from
// /ui/api/status once, and every change arrives as a server-sent event from
// the journal (/ui/events): no polling.
"use strict";
const $ = (s) => document.querySelector(s);
const pools = new Map();   // vendor/feature/version -> feature object
const leases = new Map();  // lease id -> lease object
let plugins = [];
let session = null;        // {name, scope, csrf, expires}
let es = null;             // the EventSource
const maxDenials = 50;

function key(v, f, ver) { return (v || "local") + "/" + f + "/" + ver; }
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
function time(t) { return new Date(t).toLocaleString(); }
function day(t) { return t ? new Date(new Date(t).getTime() - 1).toISOString().slice(0, 10) : "permanent"; }
function canWrite() { return session && session.scope === "write"; }

// api fetches a dashboard URL with the session cookie; changes carry the
// session's CSRF token. A 401 means the session ended: back to the login.
async function api(path, opts = {}) {
  opts.headers = Object.assign({}, opts.headers || {});
  if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = session ? session.csrf : "";
  opts.credentials = "same-origin";
  const r = await fetch(path, opts);
  if (r.status === 401) { showLogin("The session ended; log in again."); throw new Error("session ended"); }
  return r;
}

async function errorOf(r) {
  try { return (await r.json()).error; } catch (e) { return r.status + " " + r.statusText; }
}

function showLogin(msg) {
  if (es) { es.close(); es = null; }
  session = null;
  $("#dash").hidden = true; $("#logout").hidden = true; $("#who").textContent = "";
  $("#login").hidden = false; $("#loginerr").textContent = msg || "";
  $("#live").textContent = "logged out"; $("#live").className = "off";
  $("#token").focus();
}

async function login(ev) {
  ev.preventDefault();
  const tok = $("#token").value.trim();
  $("#token").value = "";
  const r = await fetch("/ui/login", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: tok }) });
  if (!r.ok) { $("#loginerr").textContent = await errorOf(r); return; }
  begin(await r.json());
}

async function logout() {
  await api("/ui/logout", { method: "POST" }).catch(() => {});
  showLogin("Logged out.");
}

function begin(s) {
  session = s;
  $("#login").hidden = true; $("#dash").hidden = false; $("#logout").hidden = false;
  $("#who").textContent = s.name + " (" + s.scope + ")";
  document.body.classList.toggle("canwrite", canWrite());
  connect();
}

async function load() {
  const r = await api("/ui/api/status");
  if (!r.ok) { $("#live").textContent = await errorOf(r); return; }
  const st = await r.json();
  $("#gateway").textContent = st.gateway + " · " + st.version;
  const before = new Map(leases);
  pools.clear(); leases.clear();
  for (const f of st.features || []) {
    pools.set(key(f.vendor, f.name, f.version), f);
    for (const l of f.leases || []) {
      // Keep when a lease arrived live (data-arrived), across reloads.
      if (before.has(l.id) && before.get(l.id).arrived) l.arrived = before.get(l.id).arrived;
      leases.set(l.id, l);
    }
  }
  plugins = st.plugins || [];
  render();
  renderNode(st);
}

function render() { renderFeatures(); renderLeases(); renderPlugins(); }

function renderFeatures() {
  const tb = $("#features tbody"); tb.replaceChildren();
  for (const [k, f] of [...pools].sort()) {
    const tr = document.createElement("tr");
    tr.dataset.key = k; tr.dataset.feature = f.name;
    if (f.in_use >= f.seats) tr.classList.add("full");
    tr.append(cell(f.vendor + "/" + f.name), cell(f.version), cell(f.seats, "num seats"), cell(f.in_use, "num inuse"),
      cell(f.queued, "num queued"), cell(f.reserved, "num"),
      cell(day(f.expiry) + (f.expiring ? " (expiring)" : ""), f.expiring ? "expiring" : ""));
    const td = document.createElement("td"); const b = document.createElement("button");
    b.textContent = "chart"; b.className = "chart"; b.onclick = () => showChart(f.name, "hour"); td.append(b); tr.append(td);
    tb.append(tr);
  }
}

function renderLeases() {
  const tb = $("#leases tbody"); tb.replaceChildren();
  for (const l of [...leases.values()].sort((a, b) => a.granted < b.granted ? -1 : 1)) {
    const tr = document.createElement("tr"); tr.dataset.lease = l.id;
    if (l.arrived) tr.dataset.arrived = l.arrived;
    tr.append(cell(l.feature), cell(l.user), cell(l.host), cell(l.protocol || ""), cell(time(l.granted)), cell(l.count, "num"));
    const td = document.createElement("td");
    if (canWrite()) {
      const b = document.createElement("button");
      b.textContent = "remove"; b.className = "remove";
      b.onclick = async () => {
        if (!confirm("Remove lease " + l.id + " of " + l.user + "?")) return;
        const r = await api("/ui/api/leases/" + encodeURIComponent(l.id), { method: "DELETE" });
        if (!r.ok) alert(await errorOf(r));
      };
      td.append(b);
    }
    tr.append(td); tb.append(tr);
  }
}

function renderPlugins() {
  const tb = $("#plugins tbody"); tb.replaceChildren();
  for (const p of plugins) {
    const tr = document.createElement("tr"); tr.dataset.plugin = p.name;
    tr.append(cell(p.name), cell(p.protocol), cell(p.state, p.state), cell(p.pid || "", "num"), cell(p.restarts, "num"),
      cell(Object.entries(p.listeners || {}).map(([n, a]) => n + "=" + a).join(" ")), cell(p.last_error || "", "error"));
    tb.append(tr);
  }
}

// renderNode shows the gateway's own health: readiness, start, and
// whatever cluster fields the status carries.
async function renderNode(st) {
  const rows = [["gateway", st.gateway], ["version", st.version], ["started", st.started ? time(st.started) : ""]];
  for (const k of ["node", "role", "leader", "term"]) if (st[k] !== undefined) rows.push([k, String(st[k])]);
  if (Array.isArray(st.nodes)) {
    for (const n of st.nodes) rows.push(["node " + (n.name || n.id || ""), Object.entries(n).map(([a, b]) => a + "=" + b).join(" ")]);
  }
  let ready = "unknown";
  try {
    const r = await fetch("/readyz");
    ready = r.ok ? "ready" : "not ready: " + await errorOf(r);
  } catch (e) { ready = "unreachable"; }
  rows.push(["readiness", ready]);
  const tb = $("#node tbody"); tb.replaceChildren();
  for (const [k, v] of rows) {
    const tr = document.createElement("tr"); tr.dataset.field = k;
    tr.append(cell(k), cell(v, k === "readiness" ? (ready === "ready" ? "running" : "stopped") : ""));
    tb.append(tr);
  }
}

function denial(ev) {
  const tb = $("#denials tbody");
  const tr = document.createElement("tr"); tr.className = "flash";
  tr.append(cell(time(ev.time)), cell(ev.feature), cell(ev.user || ""), cell(ev.host || ""), cell(ev.reason || ""));
  tb.prepend(tr);
  while (tb.children.length > maxDenials) tb.lastChild.remove();
}

// apply updates the page from one accounting event: the pool's counts
// travel in every event, leases come and go.
function apply(ev) {
  const f = pools.get(key(ev.vendor, ev.feature, ev.version));
  if (f) {
    if (ev.in_use !== undefined) f.in_use = ev.in_use;
    if (ev.queued !== undefined) f.queued = ev.queued;
    if (ev.seats !== undefined) f.seats = ev.seats;
  }
  switch (ev.kind) {
    case "checkout": case "borrowed":
      leases.set(ev.lease, { id: ev.lease, feature: ev.feature, user: ev.user, host: ev.host, protocol: ev.protocol,
        granted: ev.time, count: ev.count || 1, arrived: Date.now() });
      break;
    case "checkin": case "expired": case "removed": case "returned":
      leases.delete(ev.lease);
      break;
    case "denied":
      denial(ev);
      break;
  }
  renderFeatures(); renderLeases();
}

function connect() {
  if (es) es.close();
  es = new EventSource("/ui/events");
  es.onopen = () => { $("#live").textContent = "live"; $("#live").className = "on"; load().catch(() => {}); };
  es.onerror = async () => {
    $("#live").textContent = "reconnecting…"; $("#live").className = "off";
    if (es && es.readyState === EventSource.CLOSED) {
      // The browser gives up on a refused stream: is the session gone?
      const r = await fetch("/ui/session", { credentials: "same-origin" });
      if (r.status === 401) showLogin("The session ended; log in again.");
      else setTimeout(connect, 2000);
    }
  };
  es.addEventListener("message", (e) => {
    const m = JSON.parse(e.data);
    document.body.dataset.events = (+(document.body.dataset.events || 0) + 1).toString();
    if (m.subject.includes(".events.")) apply(m.payload);
    else load().catch(() => {}); // plugin and gateway lifecycle: reload the whole status
  });
}

function showChart(feature, range) {
  $("#chartbox").hidden = false;
  $("#charttitle").textContent = feature + ": seats in use, last " + range;
  $("#chart").src = "/ui/usage.svg?feature=" + encodeURIComponent(feature) + "&range=" + range;
  for (const b of document.querySelectorAll("#chartbox button")) b.onclick = () => showChart(feature, b.dataset.range);
}

// flat turns a report row into columns: nested objects become a=b text.
function flat(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (v !== null && typeof v === "object") out[k] = Object.entries(v).map(([a, b]) => a + "=" + b).join(" ");
    else out[k] = typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v;
  }
  return out;
}

async function runReport(ev) {
  ev.preventDefault();
  const kind = $("#rkind").value;
  const q = new URLSearchParams({ since: $("#rsince").value, by: $("#rby").value });
  const r = await api("/ui/api/reports/" + kind + "?" + q);
  const head = $("#report thead"), body = $("#report tbody");
  head.replaceChildren(); body.replaceChildren();
  if (!r.ok) { $("#rmeta").textContent = await errorOf(r); return; }
  const res = await r.json();
  $("#rmeta").textContent = res.events_in_range + " events from " + time(res.since) + " to " + time(res.until);
  const rows = (res[kind] || []).map(flat);
  const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))];
  const hr = document.createElement("tr");
  for (const c of cols) { const th = document.createElement("th"); th.textContent = c.replaceAll("_", " "); hr.append(th); }
  head.append(hr);
  for (const x of rows) {
    const tr = document.createElement("tr");
    for (const c of cols) tr.append(cell(x[c] === undefined ? "" : x[c]));
    body.append(tr);
  }
}

async function start() {
  $("#login").onsubmit = login;
  $("#logout").onclick = logout;
  $("#reportform").onsubmit = (e) => runReport(e).catch(() => {});
  const r = await fetch("/ui/session", { credentials: "same-origin" });
  if (r.ok) begin(await r.json());
  else showLogin("");
}

start();
