// The reporter's page: evidence, place and time (each with its source), the violation type,
// a resumable upload (tus-js-client) and the status of the reports sent from this device.
"use strict";

const REPORTER = "roadwitness.reporter"; // {reporter_id, token}: kept on this device only
const REPORTS = "roadwitness.reports"; // [{id, event_id, sent_at, violation}]
const PENDING = "roadwitness.pending"; // file fingerprint -> event id, so a retry resumes
const CHUNK = 256 * 1024;
const $ = (id) => document.getElementById(id);
const stored = (key, fallback) => JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
const store = (key, value) => localStorage.setItem(key, JSON.stringify(value));

let chosen = null;
let located = null; // {lat, lon, accuracy, at}: the browser's position fix
let typed = {place: null, at: null}; // entered by hand: {lat, lon}, Date
let running = null;

// Where each declared fact came from; the server stores and shows the source with the fact
// (POST /v1/events: place.source, taken_at_source).
const SOURCE_LABELS = {
  geolocation: "browser geolocation",
  manual: "entered by hand",
  file_date: "file date",
};
const TIME_LABELS = {...SOURCE_LABELS, geolocation: "time of the position fix"};

function isoWithOffset(date) {
  // RFC 3339 in the device's own zone, e.g. 2026-11-23T08:30:07+08:00
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function fact(el, label, value, source) {
  el.textContent = `${label}: ${value}`;
  if (source) {
    const tag = document.createElement("span");
    tag.className = "source";
    tag.textContent = source;
    el.append(tag);
  }
}

function setStatus(text, warn = false) {
  $("upload-status").textContent = text;
  $("upload-status").classList.toggle("warn", warn);
}

async function reporter() {
  let saved = stored(REPORTER, null);
  if (!saved) {
    const answer = await fetch("/v1/reporters", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: "{}",
    });
    if (!answer.ok) throw new Error("could not open a reporter account");
    saved = await answer.json();
    store(REPORTER, saved);
  }
  return saved;
}

// The time of the evidence: typed by hand, else the time of the position fix, else the
// file's date; each with its source.
function takenAt() {
  if (typed.at) return {at: typed.at, source: "manual"};
  if (located) return {at: new Date(located.at), source: "geolocation"};
  if (chosen) return {at: new Date(chosen.lastModified), source: "file_date"};
  return null;
}

// The place: typed by hand, else the browser's position fix.
function placeOf() {
  if (typed.place) return {...typed.place, source: "manual"};
  if (located) return {lat: located.lat, lon: located.lon, source: "geolocation"};
  return null;
}

function showWhen() {
  const when = takenAt();
  if (when) fact($("time"), "Time", isoWithOffset(when.at), TIME_LABELS[when.source]);
}

$("use-manual").addEventListener("click", () => {
  const parts = $("manual-place").value.split(/[,，\s]+/).filter(Boolean).map(Number);
  if (parts.length === 2 && Math.abs(parts[0]) <= 90 && Math.abs(parts[1]) <= 180) {
    typed.place = {lat: parts[0], lon: parts[1]};
    fact($("place"), "Place", `${parts[0].toFixed(5)}, ${parts[1].toFixed(5)}`, SOURCE_LABELS.manual);
  } else if ($("manual-place").value.trim()) {
    fact($("place"), "Place", "give it as latitude, longitude (e.g. 22.54312, 114.05786)");
  }
  const at = $("manual-time").value ? new Date($("manual-time").value) : null;
  typed.at = at && !Number.isNaN(at.getTime()) ? at : null;
  showWhen();
});

$("file").addEventListener("change", () => {
  chosen = $("file").files[0] || null;
  $("send").disabled = !chosen;
  if (chosen) {
    const kind = chosen.type.startsWith("image/") ? "photo" : "video";
    fact($("file-facts"), "Chosen", `${kind}, ${(chosen.size / 1e6).toFixed(1)} MB`);
  }
  showWhen();
});

$("locate").addEventListener("click", () => {
  if (!navigator.geolocation) {
    fact($("place"), "Place", "this browser cannot tell its position");
    return;
  }
  fact($("place"), "Place", "asking the browser…");
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      located = {lat: pos.coords.latitude, lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy, at: pos.timestamp};
      fact($("place"), "Place",
        `${located.lat.toFixed(5)}, ${located.lon.toFixed(5)} (±${Math.round(located.accuracy)} m)`,
        SOURCE_LABELS.geolocation);
      showWhen();
    },
    (err) => fact($("place"), "Place", `not available (${err.message})`),
    {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000},
  );
});

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function eventIdFor(file) {
  const fingerprint = `${file.name}|${file.size}|${file.lastModified}`;
  const pending = stored(PENDING, {});
  if (!pending[fingerprint]) {
    const random = crypto.getRandomValues(new Uint8Array(8));
    pending[fingerprint] = "web-" + Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
    store(PENDING, pending);
  }
  return {fingerprint, eventId: pending[fingerprint]};
}

function accepted(submissionId, eventId, fingerprint) {
  const reports = stored(REPORTS, []);
  if (!reports.some((r) => r.id === submissionId)) {
    reports.unshift({id: submissionId, event_id: eventId, sent_at: new Date().toISOString(),
      violation: $("violation").value});
    store(REPORTS, reports);
  }
  const pending = stored(PENDING, {});
  delete pending[fingerprint];
  store(PENDING, pending);
  $("progress").value = 100;
  setStatus("Received. Thank you! 已受理");
  $("send").disabled = false;
  running = null;
  refreshReports();
}

async function problem(response) {
  try {
    const body = JSON.parse(response.getBody ? response.getBody() : await response.text());
    return body.detail || body.error || "refused";
  } catch (e) {
    return `refused (${response.getStatus ? response.getStatus() : response.status})`;
  }
}

async function send() {
  const file = chosen;
  if (!file) return;
  $("send").disabled = true;
  setStatus("Preparing… 正在准备");
  const me = await reporter();
  const auth = {Authorization: `Bearer ${me.token}`};
  const {fingerprint, eventId} = eventIdFor(file);
  const when = takenAt();
  const event = {
    event_id: eventId,
    media: {size: file.size, sha256: await sha256Hex(file), filename: file.name},
    declared_violation: $("violation").value,
  };
  if (when) {
    event.taken_at = isoWithOffset(when.at);
    event.taken_at_source = when.source;
  }
  const place = placeOf();
  if (place) event.place = place;
  const opened = await fetch("/v1/events", {
    method: "POST", headers: {...auth, "Content-Type": "application/json"},
    body: JSON.stringify(event),
  });
  if (!opened.ok) {
    setStatus(`Not sent: ${await problem(opened)}`, true);
    $("send").disabled = false;
    return;
  }
  const upload = await opened.json();
  if (upload.submission_id) {
    accepted(upload.submission_id, eventId, fingerprint);
    return;
  }
  $("progress").hidden = false;
  running = new tus.Upload(file, {
    uploadUrl: upload.location,
    headers: auth,
    chunkSize: CHUNK,
    retryDelays: [0, 500, 1000, 2000, 4000, 8000, 15000, 30000],
    storeFingerprintForResuming: false,
    onProgress(sent, total) {
      $("progress").value = Math.floor((100 * sent) / total);
      setStatus(`Sending… ${Math.floor((100 * sent) / total)}%`);
    },
    onShouldRetry(err, attempt) {
      setStatus(`Connection lost; resuming (try ${attempt + 1})… 网络中断，正在续传`, true);
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      return status === 0 || status >= 500 || status === 409 || status === 423;
    },
    async onSuccess(payload) {
      let id = payload.lastResponse.getHeader("RW-Submission-Id");
      if (!id) {
        const head = await fetch(upload.location, {method: "HEAD", headers: auth});
        id = head.headers.get("RW-Submission-Id");
      }
      accepted(id, eventId, fingerprint);
    },
    async onError(err) {
      const response = err.originalResponse;
      if (response && response.getStatus() >= 400 && response.getStatus() < 500) {
        setStatus(`Not accepted: ${await problem(response)}`, true);
        $("send").disabled = false;
        running = null;
      } else {
        setStatus("Offline. The upload resumes when the connection is back. 网络恢复后自动续传", true);
      }
    },
  });
  running.start();
}

window.addEventListener("online", () => { if (running) running.start(); });
$("send").addEventListener("click", () => send().catch((e) => {
  setStatus(`Not sent: ${e.message}`, true);
  $("send").disabled = false;
}));

const STATES = {
  received: "Received 已受理",
  processing: "Received, being analysed 分析中",
  under_review: "Under review 审核中",
  confirmed: "Decided: violation confirmed 已确认",
  rejected: "Decided: not confirmed 未采纳",
  failed: "Could not be processed 无法处理",
};

function sourceTag(text) {
  const tag = document.createElement("span");
  tag.className = "source";
  tag.textContent = text;
  return tag;
}

async function refreshReports() {
  const me = stored(REPORTER, null);
  const reports = stored(REPORTS, []);
  const list = $("reports");
  if (!me || !reports.length) {
    list.innerHTML = "<li><small>No reports sent from this device yet.</small></li>";
    return;
  }
  const items = await Promise.all(reports.map(async (r) => {
    const li = document.createElement("li");
    li.dataset.id = r.id;
    const answer = await fetch(`/v1/reports/${r.id}`, {headers: {Authorization: `Bearer ${me.token}`}});
    if (!answer.ok) {
      li.textContent = `${r.event_id}: status not available`;
      return li;
    }
    const s = await answer.json();
    const state = document.createElement("span");
    state.className = `state ${s.state}`;
    state.textContent = STATES[s.state] || s.state;
    const due = new Date(s.answer_due).toLocaleDateString();
    const reward = s.reward_yuan != null
      ? `reward ¥${s.reward_yuan}${s.reward_status ? ` (${s.reward_status})` : ""}`
      : "reward: none yet";
    li.append(state, document.createElement("br"));
    li.append(`${s.declared_violation || "unspecified"} · sent ${new Date(r.sent_at).toLocaleString()}`,
      document.createElement("br"), `answer by ${due} · ${reward}`);
    const facts = document.createElement("div");
    facts.className = "declared";
    if (s.taken_at) {
      facts.append(`time ${new Date(s.taken_at).toLocaleString()}`);
      if (s.taken_at_source) facts.append(sourceTag(TIME_LABELS[s.taken_at_source] || s.taken_at_source));
    }
    if (s.latitude != null) {
      facts.append(`${s.taken_at ? " · " : ""}place ${s.latitude.toFixed(5)}, ${s.longitude.toFixed(5)}`);
      if (s.place_source) facts.append(sourceTag(SOURCE_LABELS[s.place_source] || s.place_source));
    }
    if (facts.childNodes.length) li.append(facts);
    if (s.reason) li.append(document.createElement("br"), `reason: ${s.reason}`);
    return li;
  }));
  list.replaceChildren(...items);
}

refreshReports();
setInterval(refreshReports, 15000);
