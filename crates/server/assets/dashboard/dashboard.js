// The live dashboard: polls /api/admin/metrics/recent (snapshots taken every two seconds by
// the server) and turns consecutive snapshots into rates and percentiles for the charts.
"use strict";
(function () {
  const POLL_MS = 2000;
  let token = null;
  let charts = null;

  function readToken() {
    const m = location.hash.match(/token=([^&]+)/);
    if (m) {
      sessionStorage.setItem("flowats-admin-token", decodeURIComponent(m[1]));
      history.replaceState(null, "", location.pathname);
    }
    return sessionStorage.getItem("flowats-admin-token");
  }

  function percentile(counts, bounds, p) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(p * total));
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 2;
    }
    return null;
  }

  // Rates and percentiles between consecutive snapshots.
  function series(snapshots, bounds) {
    const cols = { t: [], rps: [], err: [], p50: [], p95: [], p99: [], hit: [], pool: [], cpu: [], mem: [] };
    for (let i = 1; i < snapshots.length; i++) {
      const a = snapshots[i - 1], b = snapshots[i];
      const dt = (b.at - a.at) / 1000;
      if (dt <= 0) continue;
      const dreq = b.requests - a.requests;
      const derr = b.errors - a.errors;
      const buckets = b.latencyBuckets.map((n, j) => n - a.latencyBuckets[j]);
      const dhit = b.cacheHits - a.cacheHits, dmiss = b.cacheMisses - a.cacheMisses;
      cols.t.push(b.at / 1000);
      cols.rps.push(dreq / dt);
      cols.err.push(dreq > 0 ? (100 * derr) / dreq : 0);
      cols.p50.push(percentile(buckets, bounds, 0.5));
      cols.p95.push(percentile(buckets, bounds, 0.95));
      cols.p99.push(percentile(buckets, bounds, 0.99));
      cols.hit.push(dhit + dmiss > 0 ? (100 * dhit) / (dhit + dmiss) : null);
      cols.pool.push(b.poolUtilization);
      cols.cpu.push(b.cpuPercent);
      cols.mem.push(b.memoryPercent);
    }
    return cols;
  }

  function makeChart(el, lines, yAxis) {
    const width = Math.max(320, el.parentElement.clientWidth - 28);
    const opts = {
      width, height: 200,
      series: [{}].concat(lines.map(([label, stroke, scale]) => ({ label, stroke, width: 2, scale: scale || "y", spanGaps: true }))),
      axes: [{ stroke: "#8b96a5", grid: { stroke: "#253040" } }, Object.assign({ stroke: "#8b96a5", grid: { stroke: "#253040" } }, yAxis || {})]
        .concat(lines.some((l) => l[2] === "pct")
          ? [{ scale: "pct", side: 1, stroke: "#f85149", grid: { show: false }, values: (u, v) => v.map((x) => x + "%") }]
          : []),
      scales: { x: { time: true }, pct: { range: [0, 100] } },
    };
    return new uPlot(opts, [[]].concat(lines.map(() => [])), el);
  }

  function setup() {
    const byId = (id) => document.getElementById(id);
    charts = {
      requests: makeChart(byId("chart-requests"), [["req/s", "#58a6ff"], ["server errors (5xx) %", "#f85149", "pct"]]),
      latency: makeChart(byId("chart-latency"), [["p50", "#3fb950"], ["p95", "#d29922"], ["p99", "#f85149"]]),
      cache: makeChart(byId("chart-cache"), [["cache hit %", "#a371f7"], ["pool %", "#58a6ff"]]),
      system: makeChart(byId("chart-system"), [["cpu %", "#f0883e"], ["memory %", "#3fb950"]]),
    };
  }

  function render(data) {
    const s = series(data.snapshots, data.latencyBucketsMs);
    charts.requests.setData([s.t, s.rps, s.err]);
    charts.latency.setData([s.t, s.p50, s.p95, s.p99]);
    charts.cache.setData([s.t, s.hit, s.pool]);
    charts.system.setData([s.t, s.cpu, s.mem]);
    const status = document.getElementById("status");
    status.textContent = data.status;
    status.className = data.status;
    const last = data.snapshots[data.snapshots.length - 1];
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (last) {
      document.getElementById("figures").textContent =
        `${last.requests} requests · ${last.inFlight} in flight · uptime ${data.uptime} s`;
    }
    const list = document.getElementById("alert-list");
    list.replaceChildren();
    if (data.alerts.length === 0) {
      const none = document.createElement("span");
      none.className = "none";
      none.textContent = "none";
      list.append(none);
    } else {
      const ul = document.createElement("ul");
      for (const a of data.alerts) {
        const li = document.createElement("li");
        li.className = a.level;
        li.textContent = `${a.level}: ${a.message}`;
        ul.append(li);
      }
      list.append(ul);
    }
    if (s.t.length >= 2) document.body.dataset.ready = "true";
  }

  async function poll() {
    const error = document.getElementById("error");
    try {
      const res = await fetch("/api/admin/metrics/recent", { headers: { Authorization: "Bearer " + token } });
      if (res.status === 401) {
        sessionStorage.removeItem("flowats-admin-token");
        showLogin("That token was refused.");
        return;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      render(await res.json());
      error.textContent = "";
    } catch (e) {
      error.textContent = "Cannot reach the server: " + e.message;
    }
    setTimeout(poll, POLL_MS);
  }

  function showLogin(message) {
    document.getElementById("board").hidden = true;
    const login = document.getElementById("login");
    login.hidden = false;
    if (message) login.querySelector("p").textContent = message;
  }

  function start() {
    document.getElementById("login").hidden = true;
    document.getElementById("board").hidden = false;
    if (!charts) setup();
    poll();
  }

  document.getElementById("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = document.getElementById("token").value.trim();
    if (!token) return;
    sessionStorage.setItem("flowats-admin-token", token);
    start();
  });

  token = readToken();
  if (token) start(); else showLogin();
})();
