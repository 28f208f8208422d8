// Runs inside a quiz or calculator shown in embed mode. It keeps the host page's iframe as tall as the
// content and tells the host page what the visitor does (quiz:start, quiz:step, quiz:gate, quiz:lead,
// quiz:result). It only ever talks to the window that framed it, at the origin that greeted it, and only
// if that origin may frame this quiz (the quizapp-embed meta tag; an empty list means any site).
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var body = doc.body;

  if (window.parent === window) {
    // Opened on its own, e.g. from "continue in a new tab": look like a normal page.
    body.classList.replace("embed", "page");
    root.classList.remove("embed");
    return;
  }

  var settings = {};
  try {
    var meta = doc.querySelector('meta[name="quizapp-embed"]');
    settings = JSON.parse((meta && meta.content) || "{}");
  } catch (err) {
    settings = {};
  }
  var origins = settings.origins || [];
  var parentOrigin = null;
  var frameId = null;
  var queue = [];
  var lastHeight = -1;
  var lastScreen = null;
  var lastKey = null;
  var verb = null;

  // The same matching as CSP source expressions: scheme, host (with a leading "*." wildcard), port.
  function matches(source, origin) {
    var s = /^(https?):\/\/(\*\.)?([^:/]+)(?::(\d+))?$/.exec(source);
    var o = /^(https?):\/\/([^:/]+)(?::(\d+))?$/.exec(origin);
    if (!s || !o) return false;
    if (s[1] !== o[1] && !(s[1] === "http" && o[1] === "https")) return false;
    var host = o[2].toLowerCase();
    var want = s[3].toLowerCase();
    if (s[2] ? host.slice(-want.length - 1) !== "." + want : host !== want) return false;
    var defaultPort = function (scheme) { return scheme === "https" ? "443" : "80"; };
    return (s[4] || defaultPort(s[1])) === (o[3] || defaultPort(o[1]));
  }

  function allowed(origin) {
    if (origin === location.origin) return true;
    if (!origins.length) return true;
    for (var i = 0; i < origins.length; i++) if (matches(origins[i], origin)) return true;
    return false;
  }

  function post(message) {
    message.quizapp = 1;
    if (!parentOrigin) {
      queue.push(message);
      return;
    }
    message.id = frameId;
    window.parent.postMessage(message, parentOrigin);
  }

  // Where the content ends, never the viewport's or the body's height: the iframe's height follows this
  // figure, so anything sized to the viewport (100vh) would otherwise keep the frame from shrinking.
  function contentHeight() {
    var app = doc.getElementById("app") || body;
    var margin = parseFloat(getComputedStyle(app).marginBottom) || 0;
    return Math.ceil(app.getBoundingClientRect().bottom + window.scrollY + margin);
  }

  function sendHeight(force) {
    if (!parentOrigin) return;
    var height = contentHeight();
    if (force || height !== lastHeight) {
      lastHeight = height;
      post({ type: "height", height: height });
    }
  }

  function number(value) {
    return value === undefined || value === "" ? undefined : Number(value);
  }

  function describe() {
    var el = doc.querySelector("[data-quiz-step]");
    if (!el) return null;
    var d = el.dataset;
    var out = { quiz: d.quiz, screen: d.quizStep };
    if (d.step) out.step = number(d.step);
    if (d.count) out.count = number(d.count);
    ["outcome", "score", "percent", "tier", "leadScore", "kind", "headline"].forEach(function (key) {
      if (d[key] === undefined || d[key] === "") return;
      var numeric = key === "score" || key === "percent" || key === "leadScore";
      out[key === "leadScore" ? "lead_score" : key] = numeric ? number(d[key]) : d[key];
    });
    if (d.tags) {
      try {
        out.tags = JSON.parse(d.tags);
      } catch (err) {
        out.tags = [];
      }
    }
    return { detail: out, email: d.email };
  }

  function emit(name, detail) {
    post({ type: "event", name: name, detail: detail });
  }

  // The email leaves the frame only when the quiz names the sites that may frame it and the greeting
  // came from one of them; postMessage's target origin makes the browser enforce the rest.
  function emailAllowed() {
    return origins.length > 0 && parentOrigin !== null && parentOrigin !== location.origin && allowed(parentOrigin);
  }

  // Where the visitor came from on a full page load (no htmx), judged by the referrer: a plain form
  // post that redirected here leaves the previous screen as the referrer.
  function previousOnLoad() {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (nav && nav.type !== "navigate") return null;
    if (!doc.referrer) return null;
    var ref;
    try {
      ref = new URL(doc.referrer);
    } catch (err) {
      return null;
    }
    if (ref.origin !== location.origin) return null;
    // The quiz's gate, or a calculator's page with its unlock form.
    if (/\/(gate|calculate)$/.test(ref.pathname)) return { screen: "gate", posted: true };
    if (/\/q\/[^/]+$/.test(ref.pathname)) return { screen: "landing", posted: true };
    return null;
  }

  function onScreen(how) {
    var found = describe();
    if (!found) return;
    var s = found.detail;
    var key = s.screen + ":" + (s.step || "");
    var before = how === "load" ? previousOnLoad() : { screen: lastScreen, posted: verb === "post" };
    // The same screen again (a message to correct an answer) is not a new step.
    var moved = how === "load" || key !== lastKey;
    lastScreen = s.screen;
    lastKey = key;
    if (before && before.posted && before.screen === "landing" && s.screen !== "landing") {
      emit("quiz:start", { quiz: s.quiz });
    }
    if (moved && s.step !== undefined) emit("quiz:step", s);
    // The gate: its own screen in a quiz, a form inside the figures screen in a calculator.
    if (moved && (s.screen === "gate" || doc.querySelector('#app input[name="email"]'))) emit("quiz:gate", s);
    if (moved && s.screen === "result") {
      // The result right after a form was sent from another screen: the gate has just stored the lead.
      if (before && before.posted && before.screen && before.screen !== "result") {
        var lead = Object.assign({}, s);
        if (found.email && emailAllowed()) lead.email = found.email;
        emit("quiz:lead", lead);
      }
      emit("quiz:result", s);
    }
    post({ type: "state", url: location.href, screen: s.screen, scroll: how !== "load" });
  }

  // Links to other sites must not replace the quiz inside the frame.
  function retargetLinks() {
    var links = doc.querySelectorAll("#app a[href]");
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      if (a.origin !== location.origin && !a.target) {
        a.target = "_blank";
        a.rel = "noopener";
      }
    }
  }

  // Where the browser refuses a step inside the frame, offer the same step in a new tab.
  function offerNewTab() {
    if (doc.getElementById("quizapp-newtab")) return;
    var box = doc.createElement("p");
    box.id = "quizapp-newtab";
    box.className = "error embed-newtab";
    box.setAttribute("role", "alert");
    box.appendChild(doc.createTextNode("This step could not load inside this page. "));
    var link = doc.createElement("a");
    link.href = location.href;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "Continue in a new tab";
    box.appendChild(link);
    var app = doc.getElementById("app");
    app.insertBefore(box, app.firstChild);
  }

  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !allowed(e.origin)) return;
    var data = e.data;
    if (!data || data.quizapp !== 1) return;
    if (data.type === "hello") {
      var first = parentOrigin === null;
      parentOrigin = e.origin;
      frameId = typeof data.id === "string" ? data.id : null;
      root.classList.add("quizapp-sized");
      post({ type: "ready", title: doc.title });
      if (first) {
        var pending = queue;
        queue = [];
        pending.forEach(post);
      }
      sendHeight(true);
    } else if (data.type === "measure" && parentOrigin) {
      sendHeight(true);
    }
  });

  doc.addEventListener("keydown", function (e) {
    if (e.key === "Escape") post({ type: "escape" });
  });
  // Steps replace the frame's address rather than push it: pushed entries would pile up in the host
  // page's back button (frames share the page's history).
  doc.addEventListener("htmx:beforeHistoryUpdate", function (e) {
    var update = e.detail && e.detail.history;
    if (update && update.type === "push") update.type = "replace";
  });
  doc.addEventListener("htmx:beforeRequest", function (e) {
    verb = e.detail && e.detail.requestConfig ? e.detail.requestConfig.verb : null;
  });
  doc.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail || !e.detail.target || e.detail.target.id !== "app") return;
    retargetLinks();
    onScreen("swap");
    sendHeight(false);
  });
  doc.addEventListener("htmx:sendError", offerNewTab);
  doc.addEventListener("htmx:responseError", offerNewTab);
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(function () { sendHeight(false); });
    observer.observe(body);
    observer.observe(doc.getElementById("app") || body);
  }
  window.addEventListener("load", function () { sendHeight(false); });
  retargetLinks();
  onScreen("load");
})();
