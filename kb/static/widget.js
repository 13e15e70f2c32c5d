/* kb search box.
 *
 * Embed on any page:
 *   <script src="https://kb.example/widget.js" defer></script>
 *   <div data-kb-search></div>
 *
 * Every [data-kb-search] element becomes a search box that asks the kb this
 * file was loaded from (/suggest and /search; cross-origin pages must be in
 * KB_CORS_ORIGINS).  An element that already holds an <input name=q> (a
 * no-JavaScript <form>) keeps it: the script only enhances it.
 *
 * Accessibility: the WAI-ARIA 1.2 combobox pattern.  The input is a combobox
 * that owns a listbox of options; ArrowDown/ArrowUp move the active option
 * (aria-activedescendant), Enter opens it, Escape closes the list, then clears
 * the input.  A polite live region announces the counts.  A curation notice
 * (res.notice) is a plain emphasised card above the options, outside the
 * listbox, and its text leads the polite announcement: not role=alert, which
 * would interrupt the visitor on every keystroke that shows it again.
 *
 * Safety: everything is inserted as text, except kb's highlighted HTML
 * (snippets, titles), from which only <mark> elements are kept; a result
 * whose URL fails kb's URL rule (safeUrl) is left out.
 *
 * Analytics (README "Search analytics"): as-you-type requests carry live=1 and
 * are not counted; the query shown counts once it settles (an option opened,
 * the box left, SETTLE_MS without typing): a POST /events beacon of the query
 * (and a click's result id and position).  A submitted form: the page counts.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 120;
  var SETTLE_MS = 3000;
  var SUGGEST_LIMIT = 5;
  var RESULT_LIMIT = 6;
  var KINDS = { article: "Article", section: "Section", faq: "FAQ", synonym: "Also called", suggestion: "Suggestion" };

  // kb's base URL: the folder this script was loaded from (kb may live under a path).
  var script = document.currentScript || document.querySelector('script[src$="widget.js"]');
  if (!script) return;
  var BASE = new URL(".", script.src).href;
  var count = 0;

  function apiUrl(path, params) {
    var url = new URL(path, BASE);
    Object.keys(params || {}).forEach(function (k) { url.searchParams.set(k, params[k]); });
    return url.href;
  }

  // A new element with a class and (plain) text.
  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  // Append kb's highlighted HTML to node, keeping only <mark>: the string is
  // parsed in an inert document (no script runs, no image loads) and copied
  // over as text nodes and fresh <mark> elements.
  function appendMarked(node, html) {
    var doc = new DOMParser().parseFromString("<body>" + (html || ""), "text/html");
    (function copy(from, to) {
      for (var child = from.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 3) to.appendChild(document.createTextNode(child.data));
        else if (child.nodeType === 1 && !/^(SCRIPT|STYLE|TEMPLATE)$/.test(child.nodeName)) {
          copy(child, child.nodeName === "MARK" ? to.appendChild(document.createElement("mark")) : to);
          if (/^(P|LI|BR|DIV)$/.test(child.nodeName)) to.appendChild(document.createTextNode(" "));
        }
      }
    })(doc.body, node);
    return node;
  }

  // POST /events; a text/plain body: no CORS preflight.
  function beacon(ev) {
    var body = JSON.stringify(ev), url = apiUrl("events");
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }

  // kb's search page: its result links carry data-kb-q, -id and -position.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-kb-id]"), d = a && a.dataset;
    if (a) beacon({ type: "click", q: d.kbQ, id: d.kbId, position: +d.kbPosition });
  }, true);

  // kb's URL rule (kb/urls.py safe_url): a relative reference that names no
  // other host, or an http(s) URL with a host; never javascript:, data:,
  // vbscript:, "//host" or anything holding a control character.
  function safeUrl(raw) {
    var s = String(raw == null ? "" : raw);
    if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) return null;
    s = s.replace(/^ +| +$/g, "");
    var m = /^([a-zA-Z][a-zA-Z0-9+.\-]*):/.exec(s);
    if (!m) return /^[\/\\]{2}/.test(s) ? null : s;
    if (!/^https?$/i.test(m[1])) return null;
    var rest = s.slice(m[0].length);
    return /^[\/\\]{2}[^\/\\]/.test(rest) ? s : null;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function addStyles() { // unless the page links it already (kb's own pages do)
    var href = apiUrl("widget.css");
    var links = document.querySelectorAll("link[rel=stylesheet]");
    for (var i = 0; i < links.length; i++) if (links[i].href === href) return;
    var link = make("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  function SearchBox(root) {
    var id = "kb-search-" + (++count);
    var self = this;
    var input = root.querySelector("input[name=q]");
    if (!input) { // build <form role=search action=kb/><label/><input/></form>
      var form = make("form", "kb-form");
      form.setAttribute("role", "search");
      form.method = "get";
      form.action = BASE;
      var label = make("label", "kb-sr-only", root.getAttribute("data-kb-label") || "Search");
      label.htmlFor = id + "-input";
      input = make("input", "kb-input");
      input.type = "search";
      input.name = "q";
      input.id = id + "-input";
      input.placeholder = root.getAttribute("data-kb-placeholder") || "Search articles and FAQs";
      form.appendChild(label);
      form.appendChild(input);
      root.appendChild(form);
    }
    root.classList.add("kb-root"); // the dropdown spans the root, not just the input beside a button
    var wrap = make("div", "kb-search");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    this.input = input;
    this.panel = wrap.appendChild(make("div", "kb-panel"));
    this.panel.hidden = true;
    this.note = this.panel.appendChild(make("div", "kb-note"));
    this.list = this.panel.appendChild(make("ul", "kb-list"));
    this.list.id = id + "-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Suggestions and results");
    this.list.setAttribute("aria-busy", "false");
    this.live = wrap.appendChild(make("div", "kb-sr-only"));
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-live", "polite");
    this.id = id;
    this.options = [];
    this.active = -1;
    this.timer = 0;
    this.controller = null;
    this.shown = null; // the query whose results are shown
    this.reported = {}; // queries counted during this page view

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");
    input.addEventListener("input", function () { self.schedule(); });
    input.addEventListener("keydown", function (e) { self.key(e); });
    input.addEventListener("focus", function () { if (self.options.length) self.open(true); });
    wrap.addEventListener("focusout", function (e) {
      if (!wrap.contains(e.relatedTarget)) { self.open(false); self.settle(); }
    });
    if (input.form) input.form.addEventListener("submit", function () { self.settle(true); });
    window.addEventListener("pagehide", function () { self.settle(); });
    // Keep the focus in the input while an option is clicked.
    this.panel.addEventListener("mousedown", function (e) { e.preventDefault(); });
  }

  // aria-busy: from a keystroke until its answer is shown (or abandoned).
  SearchBox.prototype.busy = function (on) {
    this.list.setAttribute("aria-busy", String(on));
  };

  SearchBox.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    if (!this.input.value.trim()) {
      this.cancel();
      this.clear();
      this.shown = null;
      this.live.textContent = "";
      this.busy(false);
      return;
    }
    this.busy(true);
    this.timer = setTimeout(function () { self.fetch(self.input.value.trim()); }, DEBOUNCE_MS);
  };

  // The shown query settled: count it once (quiet: kb's search page counts it).
  SearchBox.prototype.settle = function (quiet) {
    clearTimeout(this.settleTimer);
    var q = this.shown;
    if (q && !this.reported[q]) {
      this.reported[q] = 1;
      if (!quiet) beacon({ type: "search", q: q });
    }
  };

  SearchBox.prototype.track = function (o) { // an option is opened
    this.settle(o.page);
    if (o.id) beacon({ type: "click", q: this.shown, id: o.id, position: o.position });
  };

  SearchBox.prototype.cancel = function () {
    if (this.controller) this.controller.abort();
    this.controller = null;
  };

  // Ask /suggest and /search at once; a newer keystroke aborts both.
  SearchBox.prototype.fetch = function (q) {
    var self = this;
    this.cancel();
    this.busy(true);
    var controller = this.controller = new AbortController();
    function get(path, params) {
      return fetch(apiUrl(path, params), { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(path + ": HTTP " + r.status)); });
    }
    var suggest = get("suggest", { q: q, limit: SUGGEST_LIMIT }).catch(function (e) {
      if (e.name === "AbortError") throw e;
      return null; // suggestions are a bonus: the results still show
    });
    Promise.all([suggest, get("search", { q: q, limit: RESULT_LIMIT, live: 1 })]).then(function (res) {
      if (self.controller !== controller) return;
      self.render(q, res[0] || {}, res[1]);
      self.busy(false);
    }, function (e) {
      if (e.name === "AbortError" || self.controller !== controller) return;
      self.busy(false);
      self.clear();
      self.note.appendChild(make("p", "kb-empty", "Search is not available right now."));
      self.live.textContent = "Search is not available right now.";
      self.open(true);
    });
  };

  SearchBox.prototype.clear = function () {
    this.note.textContent = "";
    this.list.textContent = "";
    this.options = [];
    this.setActive(-1);
    this.open(false);
  };

  // One option: kind label, title (kb's HTML), where it is, snippet (kb's HTML).
  SearchBox.prototype.option = function (o) {
    var li = make("li", "kb-option" + (o.cls ? " " + o.cls : ""));
    li.id = this.id + "-opt-" + this.options.length;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.appendChild(make("span", "kb-kind", o.kind + (o.where ? " · " + o.where : "")));
    var a = li.appendChild(make("a", "kb-title"));
    a.href = o.url;
    a.tabIndex = -1;
    if (o.html != null) appendMarked(a, o.html); else a.textContent = o.text;
    if (o.snippet) appendMarked(li.appendChild(make("p", "kb-snippet")), o.snippet);
    var self = this, entry = { el: li, url: a.href, id: o.id, position: o.position, page: o.page };
    li.addEventListener("click", function (e) {
      self.track(entry);
      if (e.target.closest("a") && (e.ctrlKey || e.metaKey || e.shiftKey || e.button)) return;
      e.preventDefault();
      window.location.assign(a.href);
    });
    this.options.push(entry);
    this.list.appendChild(li);
  };

  SearchBox.prototype.render = function (q, sug, res) {
    var self = this, seen = {};
    this.clear();
    this.shown = q;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(function () { self.settle(); }, SETTLE_MS);
    function add(o) { // kb's URLs are relative to kb; only safe http(s) links, each once
      var raw = safeUrl(o.url);
      if (raw === null) return;
      var url = new URL(raw, BASE);
      if (!/^https?:$/.test(url.protocol) || seen[url.href]) return;
      seen[url.href] = true;
      o.url = url.href;
      self.option(o);
    }
    var notice = res.notice;
    if (notice && notice.text) {
      var card = this.note.appendChild(make("div", "kb-notice"));
      card.appendChild(make("strong", "kb-notice-head", "Important"));
      card.appendChild(make("p", "kb-notice-text", notice.text));
      var href = safeUrl(notice.link);
      if (notice.link && href !== null) {
        var target = new URL(href, BASE);
        if (/^https?:$/.test(target.protocol)) {
          var more = card.appendChild(make("a", "kb-notice-link", "More"));
          more.href = target.href;
        }
      }
    }
    var dym = res.did_you_mean;
    if (dym && dym.query) {
      var p = this.note.appendChild(make("p", "kb-dym", "Did you mean "));
      var button = appendMarked(p.appendChild(make("button", "kb-link")), dym.html || "");
      if (!dym.html) button.textContent = dym.query;
      button.type = "button";
      button.addEventListener("click", function () {
        self.input.value = dym.query;
        self.input.focus();
        self.fetch(dym.query);
      });
      p.appendChild(document.createTextNode("?"));
    }
    var a = res.answer;
    if (a) add({ kind: "Answer", where: a.article_title, url: a.url, html: a.question_html, text: a.question, snippet: a.answer_html, cls: "kb-answer", id: a.id, position: 0 });
    var suggestions = sug.suggestions || [];
    suggestions.forEach(function (s) {
      var hash = (s.url || "").split("#")[1], syn = s.kind === "synonym";
      add({ kind: KINDS[s.kind] || KINDS.suggestion, url: s.url, html: s.html, text: s.text, position: 0,
            id: syn ? null : s.slug + (hash ? "#" + hash : ""), page: syn });
    });
    var results = res.results || [];
    results.forEach(function (h, i) {
      add({ kind: KINDS[h.kind] || h.kind, where: h.kind === "article" ? "" : h.article_title, url: h.url, html: h.title_html, text: h.title, snippet: h.snippet, id: h.id, position: i + 1 });
    });
    if (res.total > results.length) {
      add({ kind: "More", url: apiUrl("", { q: q }), text: "See all " + res.total + " results", cls: "kb-more", page: true });
    }
    if (res.unmatched && res.unmatched.length && this.options.length) {
      this.note.appendChild(make("p", "kb-hint", "No article mentions: " + res.unmatched.join(", ")));
    } else if (res.confidence === "low" && results.length) {
      this.note.appendChild(make("p", "kb-hint", "Closest matches; none is a strong one."));
    }
    var said;
    if (!this.options.length) {
      said = "No results for “" + q + "”";
      this.note.insertBefore(make("p", "kb-empty", said + "."), this.note.firstChild);
      said += dym && dym.query ? ". Did you mean " + dym.query + "?" : ".";
    } else {
      said = [res.total ? plural(res.total, "result") : "No results",
              suggestions.length ? plural(suggestions.length, "suggestion") : ""].filter(Boolean).join(", ");
    }
    if (notice && notice.text) said = "Important: " + notice.text + " " + said;
    this.live.textContent = said;
    this.open(true);
  };

  SearchBox.prototype.open = function (show) {
    show = show && !!(this.options.length || this.note.firstChild);
    this.panel.hidden = !show;
    this.input.setAttribute("aria-expanded", String(show && this.options.length > 0));
    if (!show) this.setActive(-1);
  };

  SearchBox.prototype.setActive = function (i) {
    if (this.options[this.active]) this.options[this.active].el.setAttribute("aria-selected", "false");
    this.active = i;
    var o = this.options[i];
    if (o) {
      o.el.setAttribute("aria-selected", "true");
      this.input.setAttribute("aria-activedescendant", o.el.id);
      o.el.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  SearchBox.prototype.key = function (e) {
    var n = this.options.length;
    var expanded = this.input.getAttribute("aria-expanded") === "true";
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!n) return;
      e.preventDefault();
      if (!expanded) this.open(true);
      var step = e.key === "ArrowDown" ? 1 : -1;
      this.setActive(this.active < 0 ? (step > 0 ? 0 : n - 1) : (this.active + step + n) % n);
    } else if (e.key === "Enter" && expanded && this.active >= 0) {
      e.preventDefault(); // open the active option instead of submitting the form
      this.track(this.options[this.active]);
      window.location.assign(this.options[this.active].url);
    } else if (e.key === "Escape") {
      if (!this.panel.hidden) this.open(false);
      else if (this.input.value) { this.input.value = ""; this.schedule(); }
      else return;
      e.preventDefault();
    }
  };

  function init() {
    addStyles();
    var roots = document.querySelectorAll("[data-kb-search]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].hasAttribute("data-kb-ready")) {
        roots[i].setAttribute("data-kb-ready", "");
        new SearchBox(roots[i]);
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
