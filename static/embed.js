/* quizapp embed: one script tag puts a quiz or calculator on any page.
 *
 *   <div data-quizapp="funnel-leak"><a href="https://quiz.example.com/q/funnel-leak">Take the quiz</a></div>
 *   <script src="https://quiz.example.com/static/embed.js" async></script>
 *
 * Modes (data-quizapp-mode): "inline" (default), "popup" (the element opens a modal), "link" (a full-page
 * link). The iframe keeps the content's height, the quiz records this page's URL, referrer and utm_*
 * parameters, and this page receives quiz:ready, quiz:start, quiz:step, quiz:gate, quiz:lead, quiz:result
 * and quiz:close as DOM events (and in window.dataLayer when present). Reference: docs/embed.md.
 */
(function () {
  "use strict";
  if (window.quizapp && window.quizapp.scan) {
    window.quizapp.scan();
    return;
  }
  var script = document.currentScript;
  var scriptBase = script && script.src ? script.src.replace(/\/static\/embed\.js([?#].*)?$/, "") : "";
  var EVENTS = ["quiz:start", "quiz:step", "quiz:gate", "quiz:lead", "quiz:result"];
  var ANSWER_WAIT = 5000; // ms after the frame loads without the quiz greeting back: show the fallback link
  var frames = [];
  var counter = 0;

  function option(el, name, fallback) {
    var value = el.getAttribute("data-quizapp-" + name);
    return value === null || value === "" ? fallback : value;
  }

  // data-quizapp holds a slug (the server is where this script came from, or data-quizapp-host) or the
  // full address of a landing page.
  function target(el) {
    var value = (el.getAttribute("data-quizapp") || "").trim();
    var m = /^(https?:\/\/[^/]+(?:\/.*)?)\/q\/([^/?#]+)\/?(?:[?#].*)?$/.exec(value);
    if (m) return { base: m[1], slug: decodeURIComponent(m[2]) };
    var base = option(el, "host", scriptBase).replace(/\/+$/, "");
    if (!value || !base) return null;
    return { base: base, slug: value };
  }

  function landing(t) {
    return t.base + "/q/" + encodeURIComponent(t.slug);
  }

  // Where the visitor is: this page's address, the page that sent them here, this page's utm_*
  // parameters; data-quizapp-hidden="utm_source=x,utm_medium=y" adds or overrides values.
  function source(el, embed) {
    var params = new URLSearchParams();
    if (embed) params.set("embed", "1");
    new URLSearchParams(location.search).forEach(function (value, key) {
      if (/^utm_[a-z]+$/.test(key)) params.set(key, value);
    });
    params.set("page", location.href.split("#")[0]);
    // Sent even when empty, so the quiz does not take this page for the referrer.
    params.set("referrer", document.referrer);
    option(el, "hidden", "").split(",").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i > 0) params.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    });
    return params.toString();
  }

  function storageKey(t) {
    return "quizapp:" + landing(t);
  }

  // Progress survives a reload of this page: the quiz's current address is kept in this page's own
  // session storage (first-party, so cookie blocking does not touch it).
  function resumeUrl(el, t) {
    if (option(el, "resume", "true") === "false") return null;
    try {
      var url = sessionStorage.getItem(storageKey(t));
      return url && url.indexOf(landing(t) + "/r/") === 0 ? url : null;
    } catch (err) {
      return null;
    }
  }

  function remember(f, url) {
    if (typeof url !== "string" || url.indexOf(landing(f.t) + "/r/") !== 0) return;
    f.url = url;
    if (option(f.el, "resume", "true") === "false") return;
    try {
      sessionStorage.setItem(storageKey(f.t), url);
    } catch (err) {
      // Storage refused: progress still works, it just will not survive a reload.
    }
  }

  function emit(f, name, detail) {
    var data = Object.assign({}, detail || {}, { embed: f.id });
    var node = f.el.isConnected ? f.el : document;
    node.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: data }));
    if (window.dataLayer && typeof window.dataLayer.push === "function") {
      window.dataLayer.push(Object.assign({ event: name }, data));
    }
  }

  function hello(f) {
    if (f.iframe.contentWindow) f.iframe.contentWindow.postMessage({ quizapp: 1, type: "hello", id: f.id }, f.origin);
  }

  function showFallback(f, show) {
    if (show && !f.fallback) {
      var box = document.createElement("p");
      box.className = "quizapp-fallback";
      box.setAttribute("role", "alert");
      box.appendChild(document.createTextNode("The quiz could not be shown here. "));
      var link = document.createElement("a");
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Open it in a new tab";
      box.appendChild(link);
      f.fallback = box;
      f.iframe.parentNode.insertBefore(box, f.iframe.nextSibling);
    }
    if (f.fallback) {
      // The same step, when the quiz got that far; otherwise its first page.
      f.fallback.querySelector("a").href = f.url || landing(f.t) + "?" + source(f.el, false);
      f.fallback.hidden = !show;
    }
    f.iframe.style.display = show ? "none" : "block";
  }

  function frame(el, t, popup) {
    var f = { id: "quizapp-" + ++counter, el: el, t: t, origin: new URL(t.base).origin, popup: popup };
    var iframe = document.createElement("iframe");
    f.iframe = iframe;
    iframe.title = option(el, "title", "Quiz");
    iframe.setAttribute("data-quizapp-frame", f.id);
    if (!popup) iframe.loading = "lazy";
    Object.assign(iframe.style, {
      display: "block", width: "100%", border: "0", background: "transparent", colorScheme: "normal",
      height: option(el, "height", "480") + "px",
    });
    iframe.addEventListener("load", function () {
      f.answered = false;
      hello(f);
      clearTimeout(f.timer);
      f.timer = setTimeout(function () {
        if (!f.answered) showFallback(f, true);
      }, ANSWER_WAIT);
    });
    f.url = resumeUrl(el, t);
    iframe.src = f.url || landing(t) + "?" + source(el, true);
    frames.push(f);
    return f;
  }

  function bringIntoView(f) {
    if (f.popup) {
      f.panel.scrollTop = 0;
      return;
    }
    var top = f.iframe.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight) f.iframe.scrollIntoView({ block: "start" });
  }

  window.addEventListener("message", function (e) {
    var data = e.data;
    if (!data || data.quizapp !== 1) return;
    var f = null;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].iframe.contentWindow === e.source) f = frames[i];
    }
    if (!f || e.origin !== f.origin) return;
    if (data.type === "ready") {
      f.answered = true;
      clearTimeout(f.timer);
      showFallback(f, false);
      if (data.title) f.iframe.title = data.title;
      if (!f.ready) {
        f.ready = true;
        emit(f, "quiz:ready", { quiz: f.t.slug });
      }
    } else if (data.type === "height" && typeof data.height === "number" && data.height > 0) {
      f.iframe.style.height = Math.min(Math.ceil(data.height), 20000) + "px";
    } else if (data.type === "event" && EVENTS.indexOf(data.name) >= 0) {
      emit(f, data.name, data.detail);
    } else if (data.type === "state") {
      remember(f, data.url);
      if (data.scroll) bringIntoView(f);
    } else if (data.type === "escape" && f.popup && f.close) {
      f.close();
    }
  });

  function inline(el, t) {
    var f = frame(el, t, false);
    el.textContent = "";
    el.appendChild(f.iframe);
    return f;
  }

  function link(el, t) {
    var a = el;
    if (el.tagName !== "A") {
      a = document.createElement("a");
      a.textContent = option(el, "label", "Take the quiz");
      el.textContent = "";
      el.appendChild(a);
    }
    a.href = landing(t) + "?" + source(el, false);
  }

  function style(el, rules) {
    Object.assign(el.style, rules);
    return el;
  }

  // A modal dialog around the iframe. Closing hides it rather than removing it, so reopening continues
  // where the visitor was. While it is open the rest of the page is inert, so focus stays inside.
  function popup(el, t) {
    var f = null;
    var overlay, panel, closeButton, opener;
    var inerted = [];
    var savedOverflow = "";

    function build() {
      overlay = style(document.createElement("div"), {
        position: "fixed", inset: "0", zIndex: "2147483000", background: "rgba(17,20,26,.66)",
        display: "none", alignItems: "center", justifyContent: "center",
      });
      overlay.className = "quizapp-overlay";
      panel = style(document.createElement("div"), {
        position: "relative", background: "#fff", overflowY: "auto", overscrollBehavior: "contain",
        boxShadow: "0 10px 40px rgba(0,0,0,.35)",
      });
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-modal", "true");
      panel.setAttribute("aria-label", option(el, "title", "Quiz"));
      var bar = style(document.createElement("div"), {
        position: "sticky", top: "0", display: "flex", justifyContent: "flex-end", zIndex: "1",
      });
      closeButton = style(document.createElement("button"), {
        width: "44px", height: "44px", margin: "4px", border: "0", borderRadius: "50%", cursor: "pointer",
        background: "#fff", color: "#1c1f26", font: "28px/1 system-ui, sans-serif",
      });
      closeButton.type = "button";
      closeButton.setAttribute("aria-label", "Close");
      closeButton.textContent = "\u00d7";
      closeButton.addEventListener("click", close);
      bar.appendChild(closeButton);
      f = frame(el, t, true);
      f.panel = panel;
      f.close = close;
      panel.appendChild(bar);
      panel.appendChild(f.iframe);
      overlay.appendChild(panel);
      overlay.addEventListener("click", function (e) {
        if (e.target === overlay) close();
      });
      document.body.appendChild(overlay);
    }

    function isOpen() {
      return !!overlay && overlay.style.display !== "none";
    }

    function onKey(e) {
      if (e.key === "Escape" && isOpen()) close();
    }

    function open() {
      if (!overlay) build();
      if (isOpen()) return;
      opener = document.activeElement;
      var phone = window.innerWidth < 640;
      style(overlay, { display: "flex", padding: phone ? "0" : "2rem 1rem" });
      style(panel, {
        width: phone ? "100%" : "min(42rem, 100%)", height: phone ? "100%" : "auto",
        maxHeight: "100%", borderRadius: phone ? "0" : "12px",
      });
      var children = document.body.children;
      for (var i = 0; i < children.length; i++) {
        if (children[i] !== overlay && !children[i].inert) {
          children[i].inert = true;
          inerted.push(children[i]);
        }
      }
      savedOverflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden";
      document.addEventListener("keydown", onKey);
      closeButton.focus();
      if (f.ready) f.iframe.contentWindow.postMessage({ quizapp: 1, type: "measure" }, f.origin);
    }

    function close() {
      if (!isOpen()) return;
      overlay.style.display = "none";
      inerted.forEach(function (node) { node.inert = false; });
      inerted = [];
      document.documentElement.style.overflow = savedOverflow;
      document.removeEventListener("keydown", onKey);
      if (opener && opener.focus) opener.focus();
      emit(f, "quiz:close", { quiz: t.slug });
    }

    var trigger = el;
    if (el.tagName !== "A" && el.tagName !== "BUTTON") {
      trigger = document.createElement("button");
      trigger.type = "button";
      trigger.className = "quizapp-button";
      trigger.textContent = option(el, "label", el.textContent.trim() || "Take the quiz");
      el.textContent = "";
      el.appendChild(trigger);
    }
    trigger.setAttribute("aria-haspopup", "dialog");
    trigger.addEventListener("click", function (e) {
      e.preventDefault();
      open();
    });
    return { open: open, close: close, toggle: function () { (isOpen() ? close : open)(); } };
  }

  function setUp(el) {
    if (el.hasAttribute("data-quizapp-ready")) return el.quizapp;
    var t = target(el);
    if (!t) return null;
    el.setAttribute("data-quizapp-ready", "");
    var mode = option(el, "mode", "inline");
    var handle = mode === "popup" ? popup(el, t) : mode === "link" ? link(el, t) : inline(el, t);
    el.quizapp = handle;
    return handle;
  }

  function scan() {
    var els = document.querySelectorAll("[data-quizapp]:not([data-quizapp-ready])");
    for (var i = 0; i < els.length; i++) setUp(els[i]);
  }

  window.quizapp = {
    scan: scan,
    // quizapp.popup("funnel-leak", {hidden: "utm_source=x"}) -> {open, close, toggle}
    popup: function (value, options) {
      var el = document.createElement("span");
      el.setAttribute("data-quizapp", value);
      el.setAttribute("data-quizapp-mode", "popup");
      Object.keys(options || {}).forEach(function (key) {
        el.setAttribute("data-quizapp-" + key, options[key]);
      });
      return setUp(el);
    },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
