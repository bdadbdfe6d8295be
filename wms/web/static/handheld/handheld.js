/*
 * Handheld scan path: every scan (keyboard-wedge scanner: characters then Enter) and every
 * button press becomes an entry in a FIFO queue kept in localStorage, and one sender posts the
 * entries to /handheld/scan one at a time, in order. An entry leaves the queue only when the
 * server has answered it (200) or refused it as malformed (4xx), so a reload, a crash or a dead
 * network loses nothing; each entry carries an id made on the device, which the server uses to
 * book a retried entry once and to answer it with the first answer again.
 *
 * Plain ES2020, no build step. htmx (loaded before this file) handles pure navigation links.
 * Test hooks: window.wmsHandheld = {queueLength(), flush(), pending()}.
 */
(() => {
  "use strict";

  const SCAN_URL = "/handheld/scan";
  const LOGIN_URL = "/handheld/login";
  const TIMEOUT_MS = 10000; // one request, body included
  const RETRY_MS = 5000; // retry timer while entries are waiting
  const FLASH_MS = 350;
  const REPEAT_TAP_MS = 500; // a second tap on the same button this soon is a bounce, not a press
  const SERVER_ERROR_TRIES = 3; // a 500 on the same entry this often drops it (it is a bug)
  const TRANSIENT = new Set([0, 408, 429, 502, 503, 504]); // keep the entry and retry later
  const PRESSABLE_INPUTS = new Set(["button", "submit", "reset", "checkbox", "radio", "file"]);
  const KBD_KEY = "wms.handheld.keyboard"; // sessionStorage: "on" shows the soft keyboard

  const body = document.body;
  const session = body.dataset.session || "";
  const QUEUE_KEY = "wms.handheld.queue." + session;
  const byId = (id) => document.getElementById(id);
  const scanField = () => byId("scan");
  const active = session !== "" && byId("scan-form") !== null; // not on the login page

  /* ---------- ids ---------- */

  // crypto.randomUUID exists on secure origins (https, localhost, 127.0.0.1) only.
  function newId() {
    if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  /* ---------- the queue (localStorage is the truth; memory only if storage fails) ---------- */

  let storageOk = true;
  let memory = [];

  function load() {
    if (storageOk) {
      let raw = null;
      try {
        raw = localStorage.getItem(QUEUE_KEY);
      } catch (err) {
        storageOk = false;
        console.warn("handheld: localStorage unavailable, the queue lives in memory", err);
        return memory.slice();
      }
      try {
        const parsed = raw ? JSON.parse(raw) : [];
        memory = Array.isArray(parsed) ? parsed : [];
      } catch (err) {
        console.error("handheld: unreadable queue in localStorage, starting empty", raw);
        memory = [];
      }
    }
    return memory.slice();
  }

  function save(queue) {
    memory = queue.slice();
    if (storageOk) {
      try {
        if (queue.length) localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
        else localStorage.removeItem(QUEUE_KEY);
      } catch (err) {
        storageOk = false;
        console.warn("handheld: could not persist the queue, keeping it in memory", err);
      }
    }
    showWaiting(queue.length);
  }

  // Persist first, send afterwards: the entry survives a reload even if the tab dies right now.
  function enqueue(entry) {
    const queue = load();
    queue.push(entry);
    save(queue);
    pump();
  }

  function drop(id) {
    const queue = load();
    const i = queue.findIndex((e) => e.id === id);
    if (i >= 0) queue.splice(i, 1);
    save(queue);
  }

  /* ---------- the sender: one request at a time, head of the queue first ---------- */

  let running = null; // the promise of the drain in progress
  let stopped = false; // leaving for the login page
  let serverErrors = 0; // consecutive 5xx answers for the head entry

  function pump() {
    if (running) return running;
    if (!active || stopped || load().length === 0) return Promise.resolve();
    running = drain().finally(() => {
      running = null;
    });
    return running;
  }

  async function drain() {
    for (;;) {
      const queue = load();
      if (queue.length === 0 || stopped) return;
      if (!(await send(queue[0]))) return; // false: wait for the timer or the 'online' event
    }
  }

  // Returns true to go on with the next entry, false to stop until the next retry.
  async function send(entry) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let res;
    let text = "";
    try {
      res = await fetch(SCAN_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(entry),
        credentials: "same-origin",
        signal: abort.signal,
      });
      text = await res.text();
    } catch (err) {
      setOnline(false); // network down, or no answer within TIMEOUT_MS
      return false;
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = JSON.parse(text);
    } catch (err) {
      data = null;
    }
    const status = res.status;
    const toLogin = res.redirected && new URL(res.url).pathname === LOGIN_URL;
    if (status === 401 || toLogin) {
      stopped = true; // the queue stays; it replays once signed in again
      window.location.assign(LOGIN_URL);
      return false;
    }
    if (status === 200 && data && typeof data === "object" && "status" in data) {
      serverErrors = 0;
      drop(entry.id);
      setOnline(true);
      answer(data, entry);
      return true;
    }
    if (TRANSIENT.has(status) || status === 200) {
      setOnline(false); // a proxy, a captive portal or a restart: not the server's answer yet
      return false;
    }
    setOnline(true); // the server answered, so the network is fine
    if (status >= 500) {
      serverErrors += 1;
      if (serverErrors < SERVER_ERROR_TRIES) {
        showNote(`Server error (HTTP ${status}), trying again…`); // not the answer yet
        return false;
      }
    }
    // 4xx (409 included): refused as malformed, never retried. Also a 5xx that keeps failing.
    serverErrors = 0;
    drop(entry.id);
    const detail =
      data && typeof data.detail === "string" && data.detail
        ? data.detail
        : `The server refused this ${entry.kind} (HTTP ${status})`;
    const what = entry.kind === "scan" ? `Scan “${printable(entry.value)}”` : "Button";
    const message = status >= 500 ? `${what} failed (HTTP ${status}); try it again` : detail;
    showResult("error", message, entry.id, "error");
    feedback("error", "error");
    return true;
  }

  function printable(value) {
    return value.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\x1d" ? "<GS>" : "?"));
  }

  /* ---------- showing an answer ---------- */

  function answer(data, entry) {
    const screen = byId("screen");
    if (screen && typeof data.html === "string" && data.html) {
      // A scan the scanner is typing right now must survive the swap.
      const old = scanField();
      const partial = old ? old.value : "";
      screen.innerHTML = data.html;
      if (window.htmx) window.htmx.process(screen);
      const field = scanField();
      if (field && partial) field.value = partial;
      applyKeyboard();
      window.scrollTo(0, 0);
    }
    const id = data.id || entry.id;
    showResult(data.status, data.message || "", id, data.sound, data.duplicate === true);
    feedback(data.status, data.sound);
    focusScan();
  }

  function showResult(status, message, id, sound = "none", duplicate = false) {
    const result = byId("result");
    if (result) {
      result.textContent = message;
      result.dataset.status = status;
      result.dataset.scanId = id;
      result.dataset.sound = sound;
      result.dataset.duplicate = String(duplicate);
    }
    body.dataset.scanStatus = status;
    body.dataset.lastScanId = id;
  }

  // A note that is not an answer to an entry: leaves the scan id and status attributes alone.
  function showNote(message) {
    const result = byId("result");
    if (result) result.textContent = message;
  }

  function showWaiting(count) {
    body.dataset.waiting = String(count);
    const badge = byId("waiting");
    if (!badge) return;
    badge.dataset.count = String(count);
    badge.textContent = `${count} waiting`;
    badge.hidden = count === 0;
  }

  function setOnline(online) {
    body.dataset.online = String(online);
    const net = byId("net");
    if (net) {
      net.dataset.online = String(online);
      net.textContent = online ? "Online" : "Offline";
    }
  }

  /* ---------- flash, beep, vibrate ---------- */

  let flashTimer = 0;
  function flash(status) {
    const el = byId("flash");
    const cls = { ok: "flash-ok", error: "flash-error" }[status];
    if (!el || !cls) return;
    el.classList.remove("flash-ok", "flash-error");
    void el.offsetWidth; // restart the flash when two answers come close together
    el.classList.add(cls);
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => el.classList.remove(cls), FLASH_MS);
  }

  let audio = null;
  // Browsers start audio only from a user gesture; a scanner's keystrokes count as one.
  function unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!audio) audio = new Ctx();
      if (audio.state === "suspended") audio.resume().catch(() => {});
    } catch (err) {
      audio = null;
    }
  }

  function tone(freq, start, seconds, type, volume) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const t = audio.currentTime + start;
    osc.type = type;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t); // short ramps: no clicks
    gain.gain.exponentialRampToValueAtTime(volume, t + 0.008);
    gain.gain.setValueAtTime(volume, t + seconds - 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + seconds);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + seconds + 0.01);
  }

  function feedback(status, sound) {
    flash(status);
    if (sound === "error" && typeof navigator.vibrate === "function") {
      navigator.vibrate([180, 90, 180]);
    }
    if (!audio || audio.state !== "running") return;
    if (sound === "ok") tone(1200, 0, 0.09, "sine", 0.35);
    if (sound === "error") {
      tone(220, 0, 0.18, "square", 0.25);
      tone(220, 0.27, 0.18, "square", 0.25);
    }
  }

  /* ---------- focus: the scan field always has it ---------- */

  function focusScan() {
    const field = scanField();
    if (field && document.activeElement !== field) field.focus({ preventScroll: true });
  }

  // Does this element do something with this key itself? Then leave the key alone.
  function ownsKey(el, key) {
    if (!el || el === body || el === document.documentElement) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    const pressable =
      ["BUTTON", "SUMMARY"].includes(el.tagName) ||
      (el.tagName === "A" && el.hasAttribute("href")) ||
      el.getAttribute("role") === "button" ||
      (el.tagName === "INPUT" && PRESSABLE_INPUTS.has(el.type));
    if (pressable) return key === "Enter" || key === " "; // typing goes to #scan
    return el.tagName === "INPUT"; // another text field (none on scan screens) keeps its keys
  }

  function insertAtCaret(field, text) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.setRangeText(text, start, end, "end");
  }

  function captureScan() {
    const field = scanField();
    if (!field) return;
    // Only a trailing CR/LF goes: spaces and GS1 separators stay; "" confirms the default.
    const value = field.value.replace(/[\r\n]+$/, "");
    field.value = "";
    enqueue({ id: newId(), kind: "scan", value, at: new Date().toISOString() });
  }

  // Capture phase, so the redirect happens before the key's default action: the character a
  // scanner sends first lands in #scan even when focus was somewhere else.
  function onKeydown(e) {
    unlockAudio();
    if (e.isComposing) return;
    const field = scanField();
    if (!field) return;
    if (e.target === field) {
      if (e.key === "Enter" || (e.key === "Tab" && !e.shiftKey && field.value !== "")) {
        e.preventDefault(); // Tab: scanners configured with a Tab suffix
        captureScan();
      } else if (e.ctrlKey && !e.altKey && !e.metaKey && e.code === "BracketRight") {
        e.preventDefault(); // a wedge scanner types the GS1 group separator as Ctrl+]
        insertAtCaret(field, "\x1d");
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.key === "Tab" || ownsKey(e.target, e.key)) return;
    focusScan();
    if (e.key === "Enter") {
      e.preventDefault(); // Enter alone: an empty scan, "confirm the default"
      captureScan();
    }
  }

  const lastTap = new WeakMap();
  function onClick(e) {
    const button = e.target.closest("[data-action]");
    const screen = byId("screen");
    const header = byId("topbar");
    if (button && ((screen && screen.contains(button)) || (header && header.contains(button)))) {
      e.preventDefault();
      const now = Date.now();
      if (button.disabled || now - (lastTap.get(button) || 0) < REPEAT_TAP_MS) return;
      lastTap.set(button, now);
      const { action, arg = "" } = button.dataset;
      enqueue({ id: newId(), kind: "action", action, arg, at: new Date().toISOString() });
      focusScan();
      return;
    }
    const link = e.target.closest("a[href]");
    const htmxLink = link && (link.hasAttribute("hx-get") || link.hasAttribute("hx-post"));
    if (link && !htmxLink && waitingBlocks(e)) return;
    if (!e.target.closest("a, button, input, select, textarea, label, summary, [tabindex]")) {
      if (!String(window.getSelection() || "")) focusScan(); // do not kill a text selection
    }
  }

  // Leaving the screen (a link, htmx navigation) while entries wait would run it out of order.
  function waitingBlocks(e) {
    const n = load().length;
    if (n === 0) return false;
    e.preventDefault();
    showNote(`Wait: ${n} waiting to be sent${body.dataset.online === "false" ? " (offline)" : ""}`);
    focusScan();
    return true;
  }

  /* ---------- soft keyboard (hidden unless switched on; per tab) ---------- */

  let keyboardMemory = false;
  function keyboardOn() {
    try {
      return sessionStorage.getItem(KBD_KEY) === "on";
    } catch (err) {
      return keyboardMemory;
    }
  }

  function applyKeyboard() {
    const on = keyboardOn();
    const field = scanField();
    if (field) {
      const mode = field.dataset.input === "number" ? "numeric" : "text";
      field.setAttribute("inputmode", on ? mode : "none");
    }
    const toggle = byId("kbd-toggle");
    if (toggle) toggle.setAttribute("aria-pressed", String(on));
  }

  function toggleKeyboard() {
    const on = !keyboardOn();
    keyboardMemory = on;
    try {
      sessionStorage.setItem(KBD_KEY, on ? "on" : "off");
    } catch (err) {
      /* memory only */
    }
    applyKeyboard();
    const field = scanField();
    if (field) {
      field.blur(); // the keyboard follows inputmode only when the field gets focus again
      field.focus({ preventScroll: true });
    }
  }

  /* ---------- start ---------- */

  window.wmsHandheld = {
    queueLength: () => (session ? load().length : 0),
    pending: () => (session ? load() : []),
    flush: () => pump().then(() => (session ? load().length : 0)), // resolves with what is left
  };

  if (session) showWaiting(load().length); // also on pages without a scan field
  if (!active) return; // login page, warehouse choice: no queue to run

  document.addEventListener("keydown", onKeydown, true);
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("click", onClick);
  document.addEventListener("submit", (e) => {
    if (e.target.id === "scan-form") {
      e.preventDefault(); // a soft keyboard's Go/Enter, when no keydown announced it
      captureScan();
    } else if (e.target.id === "logout-form") {
      const n = load().length;
      const ask = `${n} waiting to be sent; they are sent when you sign in again. Sign out?`;
      if (n && !window.confirm(ask)) {
        e.preventDefault();
        focusScan();
      }
    }
  }, true);
  // Focus that goes nowhere (a swap, a closed dialog) comes back to the scan field.
  document.addEventListener("focusout", () => {
    setTimeout(() => {
      if (!document.activeElement || document.activeElement === body) focusScan();
    }, 0);
  });
  window.addEventListener("focus", focusScan);
  window.addEventListener("pageshow", () => {
    focusScan();
    pump();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      focusScan();
      pump();
    }
  });
  window.addEventListener("online", () => {
    if (load().length === 0) setOnline(true);
    pump();
  });
  window.addEventListener("offline", () => setOnline(false));
  window.addEventListener("storage", (e) => {
    if (e.key === QUEUE_KEY) showWaiting(load().length); // another tab of the same session
  });
  const kbd = byId("kbd-toggle");
  if (kbd) kbd.addEventListener("click", toggleKeyboard);

  // htmx navigation: never while entries wait; after a swap, the new field gets focus.
  document.addEventListener("htmx:confirm", (e) => waitingBlocks(e));
  document.addEventListener("htmx:afterSettle", () => {
    applyKeyboard();
    focusScan();
  });
  document.addEventListener("htmx:responseError", (e) => {
    if (e.detail.xhr && e.detail.xhr.status === 401) window.location.assign(LOGIN_URL);
  });

  setInterval(() => {
    if (load().length) pump();
  }, RETRY_MS);
  applyKeyboard();
  focusScan();
  pump(); // entries left by a reload, a crash or an expired sign-in
})();
