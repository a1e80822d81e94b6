// licensegw dashboard: the state comes from /v1/status once, then every
// change arrives as a server-sent event from the journal (/ui/events).
"use strict";
const $ = (s) => document.querySelector(s);
const pools = new Map();   // vendor/feature/version -> feature object
const leases = new Map();  // lease id -> lease object
let plugins = [];
const maxDenials = 50;

function key(v, f, ver) { return (v || "local") + "/" + f + "/" + ver; }
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
function time(t) { return new Date(t).toLocaleString(); }
function day(t) { return t ? new Date(new Date(t).getTime() - 1).toISOString().slice(0, 10) : "permanent"; }

async function load() {
  const r = await fetch("/v1/status");
  const st = await r.json();
  $("#gateway").textContent = st.gateway + " · " + st.version;
  pools.clear(); leases.clear();
  for (const f of st.features || []) {
    pools.set(key(f.vendor, f.name, f.version), f);
    for (const l of f.leases || []) leases.set(l.id, l);
  }
  plugins = st.plugins || [];
  render();
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
    b.textContent = "chart"; b.onclick = () => showChart(f.name, "hour"); td.append(b); tr.append(td);
    tb.append(tr);
  }
}

function renderLeases() {
  const tb = $("#leases tbody"); tb.replaceChildren();
  for (const l of [...leases.values()].sort((a, b) => a.granted < b.granted ? -1 : 1)) {
    const tr = document.createElement("tr"); tr.dataset.lease = l.id;
    tr.append(cell(l.feature), cell(l.user), cell(l.host), cell(l.protocol || ""), cell(time(l.granted)), cell(l.count, "num"));
    const td = document.createElement("td"); const b = document.createElement("button");
    b.textContent = "remove"; b.className = "remove";
    b.onclick = async () => {
      if (!confirm("Remove lease " + l.id + " of " + l.user + "?")) return;
      const r = await fetch("/v1/leases/" + encodeURIComponent(l.id), { method: "DELETE" });
      if (!r.ok) alert((await r.json()).error);
    };
    td.append(b); tr.append(td); tb.append(tr);
  }
}

function renderPlugins() {
  const tb = $("#plugins tbody"); tb.replaceChildren();
  for (const p of plugins) {
    const tr = document.createElement("tr");
    tr.append(cell(p.name), cell(p.protocol), cell(p.state, p.state), cell(p.pid || "", "num"), cell(p.restarts, "num"),
      cell(Object.entries(p.listeners || {}).map(([n, a]) => n + "=" + a).join(" ")));
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
  const k = key(ev.vendor, ev.feature, ev.version);
  const f = pools.get(k);
  if (f) { f.in_use = ev.in_use; f.queued = ev.queued; f.seats = ev.seats; }
  switch (ev.kind) {
    case "checkout": case "borrowed":
      leases.set(ev.lease, { id: ev.lease, feature: ev.feature, user: ev.user, host: ev.host, protocol: ev.protocol,
        granted: ev.time, count: ev.count || 1 });
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
  const es = new EventSource("/ui/events");
  es.onopen = () => { $("#live").textContent = "live"; $("#live").className = "on"; load(); };
  es.onerror = () => { $("#live").textContent = "reconnecting…"; $("#live").className = "off"; };
  es.addEventListener("message", (e) => {
    const m = JSON.parse(e.data);
    if (m.subject.includes(".events.")) apply(m.payload);
    else load(); // plugin and gateway lifecycle: reload the whole status
  });
}

function showChart(feature, range) {
  $("#chartbox").hidden = false;
  $("#charttitle").textContent = feature + ": seats in use, last " + range;
  $("#chart").src = "/ui/usage.svg?feature=" + encodeURIComponent(feature) + "&range=" + range + "&t=" + Date.now();
  for (const b of document.querySelectorAll("#chartbox button")) b.onclick = () => showChart(feature, b.dataset.range);
}

connect();
