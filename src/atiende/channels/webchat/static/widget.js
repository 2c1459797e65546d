/*! Atiende web chat widget. One tag on any page:
 *   <script src="https://YOUR-ATIENDE/widget.js" data-channel="CHANNEL_ID" async></script>
 * Optional: data-lang="en" (Spanish by default), data-title="…", data-color="#0b6bcb".
 * No dependencies, no build step. Talks to /api/v1/widget/{channel}/… on the server it came from. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-channel") || window.__atiendeWidget) return;
  window.__atiendeWidget = true;

  var BASE = new URL(script.src, location.href).origin;
  var CHANNEL = script.getAttribute("data-channel");
  var API = BASE + "/api/v1/widget/" + encodeURIComponent(CHANNEL);
  var KEY = "atiende:" + BASE + ":" + CHANNEL;
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "es").slice(0, 2) === "en" ? "en" : "es";
  var T = {
    es: {open: "Abrir el chat", close: "Cerrar el chat", title: "Chatea con nosotros", placeholder: "Escribe tu mensaje…",
      label: "Mensaje", send: "Enviar", attach: "Adjuntar un archivo", you: "Tú", agent: "Agente", bot: "Asistente",
      system: "Aviso", name: "Nombre", email: "Correo electrónico", phone: "Teléfono", start: "Iniciar chat",
      prechat: "Cuéntanos quién eres para atenderte mejor.", need: "Escribe tu correo o tu teléfono.",
      offline: "Estamos fuera de horario.", unavailable: "El chat no está disponible en este momento.",
      closed: "La conversación terminó. Escribe de nuevo si necesitas algo más.", error: "No se pudo enviar. Reintenta.",
      wait: "Demasiados mensajes seguidos; espera unos segundos.", yes: "Sí", no: "No", unread: " mensajes nuevos",
      sending: "enviando…", file: "Archivo", rating: "Califica de 1 a 5",
      queued: "Un asesor te atenderá en breve.", position: "Estás en el puesto {n} de la cola. Un asesor te atenderá en breve.",
      network: "Sin conexión con el chat. Revisa tu internet y reintenta.",
      codes: {"phone.invalid": "No reconocemos ese teléfono. Revisa los dígitos o escríbelo con el indicativo del país (+57…).",
        "webchat.origin_not_allowed": "Este sitio no puede usar este chat.", "webchat.chat_unavailable": "El chat no está disponible en este momento."},
      fields: {name: "Revisa tu nombre (hasta 120 caracteres).", email: "Revisa el correo electrónico (por ejemplo ana@correo.com).",
        phone: "Revisa el teléfono.", text: "Revisa tu mensaje.", file: "No pudimos recibir ese archivo.", attachments: "No pudimos adjuntar ese archivo."}},
    en: {open: "Open chat", close: "Close chat", title: "Chat with us", placeholder: "Type your message…",
      label: "Message", send: "Send", attach: "Attach a file", you: "You", agent: "Agent", bot: "Assistant",
      system: "Notice", name: "Name", email: "Email", phone: "Phone", start: "Start chat",
      prechat: "Tell us who you are so we can help you better.", need: "Enter your email or phone.",
      offline: "We are outside business hours.", unavailable: "Chat is not available right now.",
      closed: "The conversation ended. Write again if you need anything else.", error: "Could not send. Try again.",
      wait: "Too many messages in a row; wait a few seconds.", yes: "Yes", no: "No", unread: " new messages",
      sending: "sending…", file: "File", rating: "Rate from 1 to 5",
      queued: "An agent will be with you shortly.", position: "You are number {n} in the queue. An agent will be with you shortly.",
      network: "No connection to the chat. Check your internet and try again.",
      codes: {"phone.invalid": "We could not read that phone number. Check the digits or write it with the country code (+1…).",
        "webchat.origin_not_allowed": "This site may not use this chat.", "webchat.chat_unavailable": "Chat is not available right now."},
      fields: {name: "Check your name (up to 120 characters).", email: "Check the email address (e.g. ana@mail.com).",
        phone: "Check the phone number.", text: "Check your message.", file: "We could not receive that file.", attachments: "We could not attach that file."}}
  }[lang];
  var color = /^#[0-9a-fA-F]{3,8}$/.test(script.getAttribute("data-color") || "") ? script.getAttribute("data-color") : "#0b6bcb";

  var state = {token: null, config: null, lastId: 0, seen: {}, pending: [], open: false, unread: 0, status: null, survey: null,
    socket: null, polling: false, wsFailures: 0, readUpTo: 0};
  try { state.token = JSON.parse(localStorage.getItem(KEY) || "{}").token || null; } catch (e) { state.token = null; }

  // --- DOM (in a shadow root, so the host page's CSS and ours never mix) ---------------------
  var host = document.createElement("div");
  host.id = "atiende-chat";
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  var css = ":host{all:initial}[hidden]{display:none!important}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:" + color +
    ";color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center}" +
    ".icon{display:block;flex:none}.attach{display:flex;align-items:center}.msg a.file{display:inline-flex;align-items:center;gap:4px}" +
    ".bubble:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".badge{position:absolute;top:-4px;right:-4px;background:#c62828;color:#fff;border-radius:10px;font-size:12px;padding:2px 6px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:min(370px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));" +
    "background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;" +
    "overflow:hidden;z-index:2147483001;font-size:15px}.panel[hidden]{display:none}" +
    "header{background:" + color + ";color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}" +
    "header h2{margin:0;font-size:16px}header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:36px;min-height:36px}" +
    ".note{background:#fff4e5;color:#663c00;padding:8px 12px;font-size:13px}.note[hidden],.alert:empty{display:none}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f7fa}" +
    ".msg{max-width:82%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}" +
    ".msg small{display:block;font-size:11px;opacity:.75;margin-bottom:2px}" +
    ".visitor{align-self:flex-end;background:" + color + ";color:#fff}.agent,.bot,.system{align-self:flex-start;background:#fff;border:1px solid #dde3ea}" +
    ".system{font-style:italic}.pending{opacity:.6}.msg img{max-width:100%;border-radius:8px;display:block;margin-top:4px}" +
    ".msg a{color:inherit}.quick{display:flex;gap:6px;flex-wrap:wrap;padding:6px 12px}" +
    ".quick button{border:1px solid " + color + ";background:#fff;color:" + color + ";border-radius:16px;padding:6px 12px;cursor:pointer;min-width:40px;min-height:36px}" +
    "form.compose{display:flex;gap:6px;padding:8px;border-top:1px solid #e3e7ec;align-items:flex-end}" +
    "textarea{flex:1;resize:none;border:1px solid #c9d1da;border-radius:8px;padding:8px;font-size:15px;max-height:120px;min-height:40px}" +
    ".send,.attach{border:0;border-radius:8px;background:" + color + ";color:#fff;padding:0 12px;min-height:40px;cursor:pointer}" +
    ".attach{background:#e8edf3;color:#1b1b1b}.alert{color:#b00020;font-size:13px;padding:0 12px 6px}" +
    "form.pre{padding:14px;display:flex;flex-direction:column;gap:8px;overflow-y:auto}form.pre label{font-size:13px;display:flex;flex-direction:column;gap:3px}" +
    "form.pre input{border:1px solid #c9d1da;border-radius:8px;padding:8px;font-size:15px}" +
    "form.pre input[aria-invalid=true]{border-color:#c62828;outline-color:#c62828}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;border-radius:0}.bubble{right:14px;bottom:14px}}";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // Icons are inline SVG (Material Design paths): an emoji is an empty box where no emoji font is installed.
  var ICONS = {
    chat: "M20 2H4c-1.1 0-1.99.9-1.99 2L2 22l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zM6 9h12v2H6V9zm8 5H6v-2h8v2zm4-6H6V6h12v2z",
    attach: "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z",
    file: "M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z"
  };
  function icon(name, size) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", size); svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false"); svg.setAttribute("class", "icon");
    path.setAttribute("d", ICONS[name]); path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  var title = script.getAttribute("data-title") || T.title;
  var badge = el("span", {"class": "badge", hidden: "", "aria-hidden": "true"});
  var bubble = el("button", {"class": "bubble", type: "button", "aria-label": T.open, "aria-expanded": "false",
    "aria-controls": "atiende-panel", onclick: function () { toggle(); }}, [icon("chat", "28"), badge]);
  var note = el("div", {"class": "note", hidden: "", role: "status"});
  var log = el("div", {"class": "log", role: "log", "aria-live": "polite", "aria-label": title, tabindex: "0"});
  var quick = el("div", {"class": "quick", hidden: "", role: "group", "aria-label": T.rating});
  var alertBox = el("div", {"class": "alert", role: "alert"});
  var input = el("textarea", {id: "atiende-text", rows: "1", placeholder: T.placeholder, maxlength: "4096"});
  var fileInput = el("input", {type: "file", hidden: "", tabindex: "-1",
    accept: "image/*,audio/*,video/mp4,application/pdf,.doc,.docx,.xls,.xlsx,.txt,.csv"});
  var attachButton = el("button", {"class": "attach", type: "button", hidden: "", "aria-label": T.attach,
    onclick: function () { fileInput.click(); }}, [icon("attach", "20")]);
  var compose = el("form", {"class": "compose", onsubmit: function (e) { e.preventDefault(); sendText(); }}, [
    el("label", {"for": "atiende-text", "class": "sr", text: T.label}), attachButton, input, fileInput,
    el("button", {"class": "send", type: "submit", text: T.send})]);
  var pre = buildPrechat();
  var panel = el("section", {"class": "panel", id: "atiende-panel", role: "dialog", "aria-label": title, hidden: "",
    onkeydown: function (e) { if (e.key === "Escape") toggle(false); }}, [
    el("header", {}, [el("h2", {text: title}), el("button", {type: "button", "aria-label": T.close, text: "×",
      onclick: function () { toggle(false); }})]), note, log, pre, quick, alertBox, compose]);
  var styleNode = el("style", {text: css});
  root.appendChild(styleNode); root.appendChild(bubble); root.appendChild(panel);
  (document.body || document.documentElement).appendChild(host);

  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
  });
  fileInput.addEventListener("change", function () { if (fileInput.files[0]) sendFile(fileInput.files[0]); fileInput.value = ""; });

  function buildPrechat() {
    var name = el("input", {name: "name", autocomplete: "name", maxlength: "120", required: ""});
    var email = el("input", {name: "email", type: "email", autocomplete: "email", maxlength: "200"});
    var phone = el("input", {name: "phone", type: "tel", autocomplete: "tel", maxlength: "32"});
    return el("form", {"class": "pre", hidden: "", onsubmit: function (e) {
      e.preventDefault();
      if (!email.value.trim() && !phone.value.trim()) { say(T.need); markInvalid(null); return; }
      startSession({name: name.value.trim(), email: email.value.trim() || null, phone: phone.value.trim() || null});
    }}, [el("p", {text: T.prechat}), el("label", {}, [document.createTextNode(T.name), name]),
      el("label", {}, [document.createTextNode(T.email), email]), el("label", {}, [document.createTextNode(T.phone), phone]),
      el("button", {"class": "send", type: "submit", text: T.start})]);
  }

  // --- talking to the server --------------------------------------------------------------------
  function call(method, path, body, isForm) {
    var headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body && !isForm) headers["Content-Type"] = "application/json";
    return fetch(API + path, {method: method, headers: headers, mode: "cors", credentials: "omit",
      body: body ? (isForm ? body : JSON.stringify(body)) : undefined}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error(data.detail || ("HTTP " + r.status));
          err.status = r.status; err.code = data.code; err.field = data.field; throw err;
        }
        return data;
      });
    });
  }

  function say(text) { alertBox.textContent = text || ""; }

  // What went wrong, in the widget's language: by the server's code, else by the field it names
  // (the server's own English detail never reaches the visitor).
  function problem(err) {
    if (err.status === 429) return T.wait;
    if (!err.status) return T.network;
    var field = String(err.field || "").split(".")[0];
    return T.codes[err.code] || T.fields[field] || T.error;
  }

  function markInvalid(field) {
    Array.prototype.forEach.call(pre.querySelectorAll("input"), function (input) {
      if (input.name === field) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    });
  }

  function save() { try { localStorage.setItem(KEY, JSON.stringify({token: state.token})); } catch (e) { /* private mode */ } }

  function startSession(prechat) {
    var body = prechat || {};
    if (state.token || state.pendingToken) body.visitor_token = state.token || state.pendingToken;
    return call("POST", "/session", body).then(function (data) {
      state.token = data.visitor_token; save();
      state.config = data.config;
      say(""); markInvalid(null);  // a correct answer clears the last error
      render(data);
      showPrechat(false);
      applyConfig();
      welcome();
      if (state.open) input.focus();
      connect();
    }).catch(function (err) { say(problem(err)); markInvalid(String(err.field || "")); });
  }

  function applyConfig() {
    var c = state.config || {};
    attachButton.hidden = !c.attachments;
    var text = !c.available ? T.unavailable : (!c.open_now ? (c.out_of_hours_message || T.offline) : "");
    note.textContent = text; note.hidden = !text;
  }

  function showPrechat(show) {
    pre.hidden = !show; compose.hidden = show; log.hidden = show;
    if (show) { var first = pre.querySelector("input"); if (first) first.focus(); }
  }

  function newId() {
    var a = new Uint8Array(12); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sendText() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    post({client_message_id: newId(), text: text, attachments: []});
  }

  function post(body, retried) {
    if (!state.token) {  // typed before the session answered: send once it has
      return ensureSession().then(function () { if (state.token) return post(body, retried); });
    }
    var pending = body.text ? addBubble({sender: "visitor", text: body.text, attachments: [], pending: true}) : null;
    if (pending) state.pending.push({text: body.text, node: pending});
    say("");
    return call("POST", "/messages", body).then(function (data) {
      settle(pending);
      render({messages: [data.message]});
    }).catch(function (err) {
      settle(pending);
      if (!err.status && !retried) return post(body, true);  // network hiccup: same id, stored once
      say(problem(err));
      if (body.text && !input.value) input.value = body.text;
    });
  }

  // A sent text shows at once as "enviando…"; it goes away when the stored message arrives, by the
  // POST's answer or first on the live socket (a bot may answer before the POST returns).
  function settle(node) {
    if (!node) return;
    node.remove();
    state.pending = state.pending.filter(function (p) { return p.node !== node; });
  }

  function sendFile(file) {
    var form = new FormData();
    var name = file.name || "archivo";
    form.append("file", file, name);
    say(T.sending);
    call("POST", "/attachments", form, true).then(function (att) {
      say("");
      post({client_message_id: newId(), text: "", attachments: [att.url]});
    }).catch(function (err) { say(problem(err)); });
  }

  // --- live updates: WebSocket first, long polling when it is not available -------------------------
  function connect() {
    if (state.socket || state.polling || !state.token) return;
    if (!window.WebSocket || state.wsFailures >= 3) { poll(); return; }
    var url = BASE.replace(/^http/, "ws") + "/api/v1/widget/" + encodeURIComponent(CHANNEL) + "/ws?token=" +
      encodeURIComponent(state.token) + "&after=" + state.lastId;
    var opened = false, socket;
    try { socket = new WebSocket(url); } catch (e) { state.wsFailures = 3; poll(); return; }
    state.socket = socket;
    socket.onopen = function () { opened = true; state.wsFailures = 0; };
    socket.onmessage = function (e) {
      var data; try { data = JSON.parse(e.data); } catch (x) { return; }
      if (data.kind === "messages") render(data);
    };
    socket.onclose = function () {
      state.socket = null;
      state.wsFailures += opened ? 1 : 3;  // never opened: the network blocks WebSockets
      setTimeout(connect, opened ? 1000 : 0);
    };
  }

  function poll() {
    if (state.polling) return;
    state.polling = true;
    (function next(delay) {
      setTimeout(function () {
        call("GET", "/messages?after=" + state.lastId + "&wait=25").then(function (data) {
          render(data); next(0);
        }).catch(function () { next(3000); });
      }, delay);
    })(0);
  }

  // --- rendering ------------------------------------------------------------------------------------
  function addBubble(m) {
    var who = m.sender === "visitor" ? T.you : (T[m.sender] || T.agent);
    var node = el("div", {"class": "msg " + (m.sender === "visitor" ? "visitor" : m.sender) + (m.pending ? " pending" : "")},
      [el("small", {text: who + (m.pending ? " · " + T.sending : "")})]);
    if (m.text) node.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) {
      if (!/^https?:\/\//.test(a.url || "")) return;
      if (a.kind === "image" || a.kind === "sticker") node.appendChild(el("img", {src: a.url, alt: a.name || T.file, loading: "lazy"}));
      else if (a.kind === "audio" || a.kind === "voice") node.appendChild(el("audio", {src: a.url, controls: ""}));
      else node.appendChild(el("div", {}, [el("a", {href: a.url, target: "_blank", rel: "noopener noreferrer", "class": "file"},
        [icon("file", "16"), document.createTextNode(a.name || T.file)])]));
    });
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function render(data) {
    var fresh = 0;
    (data.messages || []).forEach(function (m) {
      if (state.seen[m.id]) return;
      state.seen[m.id] = true;
      state.lastId = Math.max(state.lastId, m.id);
      if (m.sender === "visitor") {
        var mine = state.pending.filter(function (p) { return p.text === m.text; })[0];
        if (mine) settle(mine.node);
      }
      addBubble(m);
      if (m.sender !== "visitor") { fresh++; state.newestOurs = Math.max(state.newestOurs || 0, m.id); }
      state.choices = m.sender === "bot" ? (m.choices || []) : [];  // a bot's menu, until anyone writes again
    });
    if ("status" in data) { state.status = data.status; state.survey = data.survey_kind; state.queue = data.queue_position; }
    renderQuick();
    renderQueue();
    if (fresh && !state.open) { state.unread += fresh; }
    updateBadge();
    markRead();
  }

  function renderQuick() {
    quick.textContent = "";
    var options = state.survey === "rating" ? ["1", "2", "3", "4", "5"] : state.survey === "yes_no" ? [T.yes, T.no]
      : (state.choices || []);
    options.forEach(function (o) {
      quick.appendChild(el("button", {type: "button", text: o, onclick: function () {
        post({client_message_id: newId(), text: o === T.yes ? "sí" : o === T.no ? "no" : o, attachments: []});
      }}));
    });
    quick.hidden = !options.length;
    log.scrollTop = log.scrollHeight;  // the options take room under the log: keep its end in view
    var closed = state.status === "closed";
    if (closed && !note.hidden && note.textContent !== T.closed) return;
    if (closed) { note.textContent = T.closed; note.hidden = false; } else if (note.textContent === T.closed) applyConfig();
  }

  // While queued (and the channel says so): "un asesor te atenderá en breve", with the place when known.
  var queueNote = el("div", {"class": "note queue", hidden: "", role: "status", "aria-live": "polite"});
  panel.insertBefore(queueNote, log);
  function renderQueue() {
    var waiting = state.status === "queued" && typeof state.queue === "number";
    queueNote.textContent = !waiting ? "" : state.queue > 0 ? T.position.replace("{n}", state.queue) : T.queued;
    queueNote.hidden = !waiting;
  }

  function updateBadge() {
    badge.hidden = !state.unread; badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    bubble.setAttribute("aria-label", T.open + (state.unread ? " (" + state.unread + T.unread + ")" : ""));
  }

  function markRead() {
    if (!state.open || !state.token || !state.newestOurs || state.newestOurs <= state.readUpTo) return;
    state.readUpTo = state.newestOurs;
    call("POST", "/read", {up_to: state.readUpTo}).catch(function () { state.readUpTo = 0; });
  }

  function welcome() {
    var c = state.config || {};
    if (c.welcome_message && !log.querySelector(".welcome")) {
      var node = addBubble({sender: "bot", text: c.welcome_message});
      node.className += " welcome";
      log.insertBefore(node, log.firstChild);
    }
  }

  function toggle(force) {
    state.open = typeof force === "boolean" ? force : !state.open;
    panel.hidden = !state.open;
    bubble.setAttribute("aria-expanded", String(state.open));
    if (!state.open) { bubble.focus(); return; }
    state.unread = 0; updateBadge();
    ensureSession().then(function () {
      welcome();
      if (pre.hidden) input.focus();
      markRead();
    });
  }

  var loading = null;
  function ensureSession() {
    if (state.config) return Promise.resolve();
    if (loading) return loading;
    if (!state.token) {
      // Learn the channel's settings first; a pre-chat form starts the session when submitted.
      loading = call("POST", "/session", {}).then(function (data) {
        state.config = data.config; applyConfig();
        if (data.config.prechat_form) { state.pendingToken = data.visitor_token; showPrechat(true); return; }
        state.token = data.visitor_token; save(); render(data); connect();
      }).catch(function (err) { say(problem(err)); loading = null; });
      return loading;
    }
    loading = startSession(null);
    return loading;
  }

  // A returning visitor (token kept) gets their conversation and live updates without opening the panel.
  if (state.token) ensureSession();
})();
