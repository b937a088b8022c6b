// The review desk: one case on screen, one key per decision. Talks to the JSON API only.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { me: null, current: null, history: [], skipped: [], plateEdited: false, config: {}, map: null, layers: null, alts: [] };
// A plate character read with less probability than this is marked, and its alternatives offered.
const UNSURE = 0.95;

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(path, opts);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error((data && (data.detail || data.error)) || res.statusText), { status: res.status });
  return data;
}

function say(text, error = false) { const m = $("message"); m.textContent = text; m.className = error ? "error" : ""; }

function filterQuery() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($("filters"))) if (v) params.set(k, v);
  return params;
}

async function loadQueue() {
  const data = await api("GET", "/v1/cases?status=candidate&limit=200&" + filterQuery());
  $("queue-count").textContent = `${data.total} case(s) waiting`;
  const list = $("queue-list"); list.innerHTML = "";
  for (const c of data.items) {
    const li = document.createElement("li");
    li.textContent = `${c.plate || "(unread)"} · ${c.violation} · due ${c.answer_due.slice(0, 10)}`;
    if (c.overdue) li.classList.add("overdue");
    li.onclick = () => open(c.id, true);
    list.appendChild(li);
  }
}

function show(c) {
  state.current = c; state.plateEdited = false;
  $("empty").classList.add("hidden"); $("case-body").classList.remove("hidden");
  const byRole = Object.fromEntries(c.evidence.map((e) => [e.role, e.url]));
  for (const m of ["before", "during", "after"]) {
    const img = $("frame_" + m);
    img.src = byRole["frame_" + m] || ""; img.parentElement.classList.toggle("hidden", !byRole["frame_" + m]);
  }
  const clip = $("clip");
  if (byRole.clip) { clip.src = byRole.clip; clip.onloadedmetadata = () => { clip.currentTime = Math.min(2, clip.duration || 0); }; clip.classList.remove("hidden"); }
  else { clip.removeAttribute("src"); clip.classList.add("hidden"); }
  $("crop").src = byRole.plate_crop || ""; $("crop").classList.toggle("hidden", !byRole.plate_crop);
  $("plate").value = c.plate || "";
  showChars(c);
  const facts = {
    case: c.id, status: c.status, violation: c.violation, vehicle: `${c.vehicle_class}, plate ${c.plate_colour || "?"}`,
    "plate conf.": c.plate_confidence.toFixed(2), time: c.observed_at || c.taken_at || "unknown",
    "time source": c.time_source || "-", place: c.latitude != null ? `${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)}` : "unknown",
    "place source": c.place_source || "-", "video s": `${c.t_start.toFixed(1)}–${c.t_end.toFixed(1)}`,
    reporter: c.reporter_refs.join(", ") || "-", "answer due": c.answer_due.slice(0, 10) + (c.overdue ? " OVERDUE" : ""),
    "original sha256": c.original_sha256.slice(0, 16) + "…",
    capture: c.capture && c.capture.kind === "device_attested" ? `device-attested (device ${c.capture.device_id}, key ${c.capture.key_id})` : "reporter-supplied",
  };
  $("facts").innerHTML = "";
  for (const [k, v] of Object.entries(facts)) { const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = v; $("facts").append(dt, dd); }
  $("rule").innerHTML = ""; const r = document.createElement("p");
  r.innerHTML = "<strong></strong> "; r.firstChild.textContent = `${c.rule} (confidence ${c.confidence.toFixed(2)}):`; r.append(c.explanation);
  $("rule").append(r);
  $("flags").innerHTML = "";
  for (const f of c.flags) { const d = document.createElement("div"); d.className = "flag"; d.textContent = `⚑ ${f.kind}: ${f.reason}` + (f.other_case ? ` (other case ${f.other_case})` : ""); $("flags").append(d); }
  if (c.duplicates.length) { const d = document.createElement("div"); d.className = "flag"; d.textContent = `⚑ same incident as ${c.duplicates.join(", ")}`; $("flags").append(d); }
  drawMap(c);
  for (const li of $("queue-list").children) li.classList.remove("current");
}

function showChars(c) {
  // The read's characters with the unsure ones marked; the alternatives of every unsure
  // character, in plate order (the province first), on keys 1-9: one key applies one.
  const box = $("plate-chars"); box.innerHTML = ""; state.alts = [];
  const chars = c.plate_chars || [];
  if (!c.plate || chars.length !== [...c.plate].length) return;
  chars.forEach((alts, i) => {
    const span = document.createElement("span"); span.className = "char"; span.textContent = alts[0][0];
    span.title = alts.map(([ch, p]) => `${ch} ${p.toFixed(2)}`).join(" · ");
    if (alts[0][1] < UNSURE) {
      span.classList.add("unsure");
      for (const [ch, p] of alts.slice(1)) if (p >= 0.005 && state.alts.length < 9) state.alts.push({ position: i, char: ch, p });
    }
    box.append(span);
  });
  const ol = document.createElement("ol"); ol.id = "alternatives"; box.append(ol);
  state.alts.forEach((a, n) => {
    const li = document.createElement("li"); li.dataset.char = a.char; li.dataset.position = String(a.position);
    li.innerHTML = "<kbd></kbd> "; li.firstChild.textContent = String(n + 1);
    li.append(`${a.position + 1}: ${a.char} ${a.p.toFixed(2)}`);
    li.onclick = () => applyAlternative(n); ol.append(li);
  });
}

function applyAlternative(n) {
  const a = state.alts[n]; if (!a) return false;
  const chars = [...$("plate").value]; chars[a.position] = a.char;
  $("plate").value = chars.join(""); state.plateEdited = true;
  [...$("plate-chars").querySelectorAll(".char")][a.position].textContent = a.char;
  say(`character ${a.position + 1} set to ${a.char}: ${$("plate").value} (C to confirm)`);
  return true;
}

function drawMap(c) {
  const pts = c.track.length ? c.track : (c.latitude != null ? [[c.latitude, c.longitude]] : []);
  if (window.L && pts.length) {
    // Leaflet: tiles when a tile server is configured, else the track and point on a plain map.
    $("map").classList.add("hidden"); $("leaflet").classList.remove("hidden");
    if (!state.map) {
      state.map = L.map("leaflet", { attributionControl: false });
      if (state.config.tiles) L.tileLayer(state.config.tiles, { maxZoom: 19 }).addTo(state.map);
      state.layers = L.layerGroup().addTo(state.map);
    }
    state.layers.clearLayers();
    const line = L.polyline(pts, { color: "#3465a4", weight: 4 }).addTo(state.layers);
    if (c.latitude != null) L.circleMarker([c.latitude, c.longitude], { radius: 7, color: "#c00", fillOpacity: 0.9 }).addTo(state.layers);
    state.map.fitBounds(line.getBounds().pad(0.5), { maxZoom: 17 });
    return;
  }
  // Tile-less fallback: the track and the case's point on a plain canvas (no Leaflet at all).
  const cv = $("map"), g = cv.getContext("2d"); g.clearRect(0, 0, cv.width, cv.height);
  if (!pts.length) { g.fillText("no position", 10, 20); return; }
  const all = c.latitude != null ? [...pts, [c.latitude, c.longitude]] : pts;
  const lats = all.map((p) => p[0]), lons = all.map((p) => p[1]);
  const pad = 0.0005, la0 = Math.min(...lats) - pad, la1 = Math.max(...lats) + pad, lo0 = Math.min(...lons) - pad, lo1 = Math.max(...lons) + pad;
  const s = Math.min((cv.width - 20) / (lo1 - lo0), (cv.height - 20) / (la1 - la0));
  const xy = (p) => [10 + (p[1] - lo0) * s, cv.height - 10 - (p[0] - la0) * s];
  g.strokeStyle = "#3465a4"; g.lineWidth = 3; g.beginPath(); pts.forEach((p, i) => { const [x, y] = xy(p); i ? g.lineTo(x, y) : g.moveTo(x, y); }); g.stroke();
  if (c.latitude != null) { const [x, y] = xy([c.latitude, c.longitude]); g.fillStyle = "#c00"; g.beginPath(); g.arc(x, y, 6, 0, 7); g.fill(); }
  g.fillStyle = "#333"; g.fillText(`${c.latitude?.toFixed(4) ?? ""} ${c.longitude?.toFixed(4) ?? ""}`, 8, 14);
}

async function next() {
  const params = filterQuery();
  for (const id of state.skipped) params.append("exclude", id);
  const c = await api("POST", "/v1/claims/next?" + params);
  if (!c) { state.current = null; $("case-body").classList.add("hidden"); $("empty").classList.remove("hidden"); say(""); }
  else { if (state.current && state.current.id !== c.id) state.history.push(state.current.id); show(c); }
  await loadQueue();
}

async function open(id, claim) {
  const c = claim ? await api("POST", `/v1/cases/${id}/claim`).catch(() => api("GET", `/v1/cases/${id}`)) : await api("GET", `/v1/cases/${id}`);
  if (state.current && state.current.id !== c.id) state.history.push(state.current.id);
  show(c);
}

async function decide(body) {
  const c = state.current; if (!c) return;
  try {
    const done = await api("POST", `/v1/cases/${c.id}/decision`, body);
    say(`${done.plate || "case"} ${done.status}${done.decision_reason ? " (" + done.decision_reason + ")" : ""}`);
    await next();
  } catch (e) { say(e.message, true); }
}

function confirm() {
  const plate = $("plate").value.trim();
  const body = { decision: "confirm" };
  if (plate && plate !== (state.current.plate || "")) body.plate = plate;
  return decide(body);
}

function openReasons() { $("reasons").classList.add("open"); }
function closeReasons() { $("reasons").classList.remove("open"); $("reason-note").value = ""; }
function reject(reason) {
  const note = $("reason-note").value.trim();
  if (reason === "other" && !note) { $("reason-note").focus(); return; }
  closeReasons();
  return decide({ decision: "reject", reason, note: note || null });
}

document.addEventListener("keydown", async (ev) => {
  if (!state.me) return;
  const reasons = [...document.querySelectorAll("#reasons li")].map((li) => li.dataset.reason);
  if ($("reasons").classList.contains("open")) {
    if (ev.key === "Escape") { closeReasons(); return; }
    if (ev.target === $("reason-note")) { if (ev.key === "Enter") { ev.preventDefault(); await reject("other"); } return; }
    const n = Number(ev.key);
    if (n >= 1 && n <= reasons.length) { ev.preventDefault(); if (reasons[n - 1] === "other") $("reason-note").focus(); else await reject(reasons[n - 1]); }
    return;
  }
  if (ev.target === $("plate")) {
    if (ev.key === "Enter") { ev.preventDefault(); $("plate").blur(); await confirm(); }
    if (ev.key === "Escape") { $("plate").value = state.current?.plate || ""; $("plate").blur(); }
    return;
  }
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
  const key = ev.key.toLowerCase();
  if (/^[1-9]$/.test(key) && state.alts[Number(key) - 1]) { ev.preventDefault(); applyAlternative(Number(key) - 1); }
  else if (key === "c") { ev.preventDefault(); await confirm(); }
  else if (key === "r") { ev.preventDefault(); openReasons(); }
  else if (key === "e") { ev.preventDefault(); $("plate").focus(); $("plate").select(); }
  else if (key === "j") {
    ev.preventDefault();
    if (state.current && state.current.status === "under_review") { state.skipped.push(state.current.id); await api("POST", `/v1/cases/${state.current.id}/release`).catch(() => {}); }
    await next();
  } else if (key === "k") {
    ev.preventDefault(); const prev = state.history.pop(); if (prev) await open(prev, false);
  }
});

async function oversight() {
  // Supervisors and admins: the year's budget, statistics, CSV downloads and the payable ledger.
  $("oversight").classList.remove("hidden");
  const year = Number($("year").value) || new Date().getFullYear(); $("year").value = year;
  const b = await api("GET", `/v1/budget/${year}`);
  $("budget").textContent = `Budget ${b.budget} yuan · paid ${b.paid} · listed for payment ${b.payable} · left ${b.left}`;
  const s = await api("GET", `/v1/stats/annual?year=${year}`);
  const rows = [["reports received", s.reports_received], ["cases confirmed", s.cases_confirmed], ["cases rejected", s.cases_rejected],
    ...Object.entries(s.rejected_by_reason).map(([k, v]) => [`  rejected: ${k}`, v]),
    ...Object.entries(s.rewards_paid_by_item).map(([k, v]) => [`  paid for item ${k} (yuan)`, v])];
  $("stats").innerHTML = ""; for (const [k, v] of rows) { const tr = $("stats").insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v; }
  $("csv-annual").href = `/v1/stats/annual?year=${year}&format=csv`;
  $("csv-quarters").innerHTML = [1, 2, 3, 4].map((q) => `<a href="/v1/stats/quarterly?year=${year}&quarter=${q}&format=csv">Q${q}</a>`).join(" ");
  $("csv-export").href = `/v1/export?since=${year}-01-01&format=csv`;
  const ledger = await api("GET", "/v1/rewards?status=payable");
  $("ledger").innerHTML = "";
  for (const r of ledger) { const tr = $("ledger").insertRow(); for (const v of [r.month, r.case_id.slice(0, 8), `item ${r.item}`, `${r.amount_yuan} yuan`, r.reporter_ref]) tr.insertCell().textContent = v; }
}
$("show-stats").onclick = () => oversight();

document.querySelectorAll("#reasons li").forEach((li) => li.addEventListener("click", (ev) => { if (ev.target.tagName !== "INPUT") reject(li.dataset.reason); }));
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadQueue(); });
$("logout").onclick = async () => { await api("POST", "/v1/staff/logout"); location.reload(); };
$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try { await api("POST", "/v1/staff/login", { username: f.get("username"), password: f.get("password") }); location.reload(); }
  catch (e) { $("login-error").textContent = e.message; }
});

(async () => {
  state.config = await api("GET", "/desk/config.json").catch(() => ({}));
  try { state.me = await api("GET", "/v1/staff/me"); }
  catch { $("login").classList.remove("hidden"); return; }
  $("who").textContent = `${state.me.display_name} (${state.me.role})`;
  $("desk").classList.remove("hidden");
  if (state.me.role === "officer") await next();
  else { await loadQueue(); $("case").classList.add("hidden"); await oversight(); }
})();
