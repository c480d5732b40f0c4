/*
 * django-sentry dashboard: small enhancements of server-rendered pages.
 *
 * Every page works without this file. It adds live updates of the stream,
 * in-place resolve/unresolve, row selection, frame toggles and the j/k
 * keys of an occurrence page. It is loaded
 * as a static file (no inline script, so a strict Content-Security-Policy
 * holds) and never uses innerHTML: event data only ever goes into the page
 * through textContent and DOM attributes.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";

  /* Relative times: the same wording as the "reltime" template filter. */
  function relTime(iso, now) {
    var then = Date.parse(iso);
    if (isNaN(then)) { return ""; }
    var seconds = ((now || Date.now()) - then) / 1000;
    if (seconds < 60) { return "just now"; }
    var units = [[86400, "day"], [3600, "hour"], [60, "minute"]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][0]) {
        var count = Math.floor(seconds / units[i][0]);
        if (units[i][1] === "day" && count >= 30) { return iso.slice(0, 10); }
        return count + " " + units[i][1] + (count === 1 ? "" : "s") + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes(root) {
    var now = Date.now();
    root.querySelectorAll("time[data-rel]").forEach(function (el) {
      var text = relTime(el.getAttribute("datetime"), now);
      if (text) { el.textContent = text; }
    });
  }

  /* A sparkline drawn exactly like the "sparkline" template tag. */
  function sparkline(counts) {
    var width = 96, height = 22;
    var svg = document.createElementNS(SVG_NS, "svg");
    if (!counts || !counts.length) { return svg; }
    var total = 0, peak = 0;
    counts.forEach(function (c) { total += c; peak = Math.max(peak, c); });
    peak = peak || 1;
    var step = width / counts.length;
    svg.setAttribute("class", "sparkline");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("role", "img");
    var label = total + " in the last " + counts.length + " hours";
    svg.setAttribute("aria-label", label);
    var title = document.createElementNS(SVG_NS, "title");
    title.textContent = label;
    svg.appendChild(title);
    var line = document.createElementNS(SVG_NS, "line");
    line.setAttribute("class", "baseline");
    line.setAttribute("x1", "0");
    line.setAttribute("x2", String(width));
    line.setAttribute("y1", String(height - 0.5));
    line.setAttribute("y2", String(height - 0.5));
    svg.appendChild(line);
    counts.forEach(function (count, index) {
      if (!count) { return; }
      var bar = Math.max(Math.round(count / peak * height), 1);
      var rect = document.createElementNS(SVG_NS, "rect");
      rect.setAttribute("x", String(Math.round(index * step * 10) / 10));
      rect.setAttribute("y", String(height - bar));
      rect.setAttribute("width", String(Math.round(Math.max(step - 1, 1) * 10) / 10));
      rect.setAttribute("height", String(bar));
      svg.appendChild(rect);
    });
    return svg;
  }

  /* Resolve / unresolve in place; the form posts normally without us. */
  function resolveForms(root) {
    root.querySelectorAll("form[data-resolve]").forEach(bindResolve);
  }

  function bindResolve(form) {
    if (form.dataset.bound) { return; }
    form.dataset.bound = "1";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        showStatus(form, data.resolved, data.status_label);
        if (button) { button.disabled = false; }
      }).catch(function () {
        // Let the server answer in full (login page, error page...).
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  function showStatus(form, resolved, label) {
    var holder = form.closest("tr.group") || form.closest("[data-group]") || document.body;
    var scope = form.closest("tr.group") ? holder : document;
    holder.classList.toggle("is-resolved", !!resolved);
    if (holder.dataset) { holder.dataset.status = resolved ? "1" : "0"; }
    setResolveForm(form, resolved);
    if (label) {
      scope.querySelectorAll("[data-status-label]").forEach(function (el) {
        el.textContent = label;
      });
    }
    if (!form.closest("tr.group")) {
      var header = document.querySelector("[data-group]");
      if (header) { header.classList.toggle("is-resolved", !!resolved); }
      // The resolve-in-a-release menu is for unresolved errors, and what a
      // resolution in a release said no longer holds once changed here.
      document.querySelectorAll("[data-resolve-menu], [data-resolved-in]").forEach(
        function (el) { el.hidden = el.hasAttribute("data-resolve-menu") ? !!resolved : true; }
      );
    }
  }

  function setResolveForm(form, resolved) {
    form.action = resolved ? form.dataset.unresolveUrl : form.dataset.resolveUrl;
    var label = form.querySelector("[data-resolve-label]");
    if (label) { label.textContent = resolved ? "Unresolve" : "Resolve"; }
  }

  /* Row selection for the bulk actions. */
  function bulkSelection() {
    var form = document.querySelector("form[data-bulk]");
    if (!form) { return; }
    var all = form.querySelector("[data-select-all]");
    function boxes() {
      return document.querySelectorAll("input[data-select][form='" + form.id + "']");
    }
    function update() {
      var any = false;
      boxes().forEach(function (box) { any = any || box.checked; });
      form.querySelectorAll("[data-needs-selection]").forEach(function (button) {
        button.disabled = !any;
      });
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[data-select]")) { update(); }
    });
    update();
  }

  /* Live updates of the stream's first page. */
  function liveStream(table) {
    var url = table.dataset.pollUrl;
    var interval = Math.max(parseFloat(table.dataset.pollInterval) || 0, 1) * 1000;
    var tbody = table.querySelector("[data-rows]");
    var template = document.getElementById("stream-row-template");
    var controls = document.querySelector("[data-live-controls]");
    var status = document.querySelector("[data-live-status]");
    var toggle = document.querySelector("[data-live-toggle]");
    var key = "sentry.live.paused";
    var paused = window.sessionStorage && sessionStorage.getItem(key) === "1";
    var timer = null, failures = 0, stopped = false;
    if (!url || !tbody || !template) { return; }

    function say(text, state) {
      if (!controls) { return; }
      controls.classList.toggle("paused", state === "paused");
      controls.classList.toggle("failing", state === "failing");
      if (status) { status.textContent = text; }
      if (toggle) { toggle.textContent = paused ? "Resume" : "Pause"; }
    }

    function schedule(delay) {
      window.clearTimeout(timer);
      if (!paused && !stopped) { timer = window.setTimeout(tick, delay); }
    }

    function tick() {
      if (document.hidden) { return schedule(interval); }
      fetch(url, {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        cache: "no-store"
      }).then(function (response) {
        if (response.status === 403) { stopped = true; throw new Error("forbidden"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        failures = 0;
        if (!paused) { apply(data.rows || []); }
        say("Live", "live");
        schedule(interval);
      }).catch(function () {
        failures += 1;
        say(stopped ? "Stopped: log in again" : "Reconnecting…", "failing");
        schedule(Math.min(interval * Math.pow(2, failures), 60000));
      });
    }

    function apply(rows) {
      var existing = {};
      tbody.querySelectorAll("tr.group").forEach(function (row) {
        existing[row.dataset.id] = row;
      });
      var ordered = rows.map(function (data) {
        var row = existing[String(data.id)];
        if (!row) {
          row = template.content.firstElementChild.cloneNode(true);
          fill(row, data);
          flash(row, "is-new");
        } else if (changed(row, data)) {
          fill(row, data);
          flash(row, "is-changed");
        }
        delete existing[String(data.id)];
        return row;
      });
      Object.keys(existing).forEach(function (id) { existing[id].remove(); });
      ordered.forEach(function (row) { tbody.appendChild(row); });
      var empty = document.querySelector("[data-empty]");
      if (empty) { empty.hidden = ordered.length > 0; }
      refreshTimes(tbody);
    }

    function changed(row, data) {
      return row.dataset.timesSeen !== String(data.times_seen) ||
        row.dataset.lastSeen !== data.last_seen ||
        row.dataset.status !== String(data.status) ||
        row.dataset.muted !== String(data.muted || "");
    }

    function field(row, name) { return row.querySelector("[data-field='" + name + "']"); }

    function fill(row, data) {
      row.dataset.id = String(data.id);
      row.dataset.timesSeen = String(data.times_seen);
      row.dataset.lastSeen = data.last_seen;
      row.dataset.status = String(data.status);
      row.dataset.muted = String(data.muted || "");
      var level = String(data.level || "").toLowerCase().replace(/[^a-z0-9-]/g, "");
      row.className = "group level-" + level + (data.resolved ? " is-resolved" : "");
      var box = row.querySelector("input[data-select]");
      if (box) { box.value = String(data.id); }
      field(row, "times_seen").textContent = String(data.times_seen);
      var title = field(row, "title");
      title.textContent = data.title;
      title.setAttribute("href", data.url);
      field(row, "short_id").textContent = data.short_id || "";
      field(row, "culprit").textContent = data.culprit || "";
      field(row, "level").textContent = data.level || "";
      var muted = field(row, "muted");
      if (muted) {
        muted.hidden = !data.muted;
        if (data.muted) { muted.title = data.muted; } else { muted.removeAttribute("title"); }
      }
      var logger = field(row, "logger");
      logger.textContent = data.logger || "";
      logger.hidden = !data.logger; // SDKs that name no logger
      var cause = field(row, "cause");
      if (cause) {
        cause.textContent = data.cause ? "caused by " + data.cause : "";
        cause.hidden = !data.cause;
      }
      field(row, "users").textContent = String(data.users || 0);
      var project = field(row, "project");
      if (project) {
        project.textContent = data.project_name || "";
        project.setAttribute("href", data.project_url || "");
      }
      var tags = field(row, "tags");
      tags.replaceChildren();
      (data.tags || []).forEach(function (pair) {
        var tag = document.createElement("span");
        tag.className = "tag plugin";
        tag.textContent = pair[0] + ": " + pair[1];
        tags.appendChild(tag);
      });
      field(row, "trend").replaceChildren(sparkline(data.trend));
      var seen = field(row, "last_seen");
      seen.setAttribute("datetime", data.last_seen);
      seen.setAttribute("title", data.last_seen);
      seen.setAttribute("data-rel", "");
      seen.textContent = relTime(data.last_seen);
      var form = row.querySelector("form[data-resolve]");
      if (form) {
        form.dataset.resolveUrl = data.resolve_url;
        form.dataset.unresolveUrl = data.unresolve_url;
        setResolveForm(form, data.resolved);
        var next = form.querySelector("input[name='next']");
        if (next) { next.value = window.location.pathname + window.location.search; }
        bindResolve(form);
      }
    }

    function flash(row, name) {
      row.classList.remove("is-new", "is-changed");
      void row.offsetWidth; // restart the animation
      row.classList.add(name);
    }

    if (controls) { controls.hidden = false; }
    if (toggle) {
      toggle.addEventListener("click", function () {
        paused = !paused;
        if (window.sessionStorage) { sessionStorage.setItem(key, paused ? "1" : "0"); }
        say(paused ? "Paused" : "Live", paused ? "paused" : "live");
        if (!paused) { stopped = false; schedule(0); }
      });
    }
    say(paused ? "Paused" : "Live", paused ? "paused" : "live");
    schedule(interval);
  }

  /* "Expand all" and "application frames only" for long tracebacks. */
  function frameTools(root) {
    root.querySelectorAll("[data-frame-tools]").forEach(function (tools) {
      var section = tools.closest("section") || root;
      tools.hidden = false;
      tools.addEventListener("click", function (event) {
        var mode = event.target.dataset && event.target.dataset.frames;
        if (!mode) { return; }
        section.querySelectorAll("details[data-frame]").forEach(function (frame) {
          frame.open = mode === "expand" || frame.classList.contains("in-app");
        });
      });
    });
  }

  /*
   * Copy buttons (the set-up page): copy the text of the element named by
   * data-copy. Without this file the buttons stay hidden and the text is
   * there to select; where the Clipboard API is missing or refused (a page
   * not served over HTTPS), the text is selected and copied the old way.
   */
  function selectText(el) {
    if (el.select) { el.focus(); el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.dataset.copy);
      if (!target) { return; }
      var status = document.createElement("span");
      status.className = "copy-status";
      status.setAttribute("role", "status");
      button.insertAdjacentElement("afterend", status);
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.tagName === "INPUT" ? target.value : target.textContent;
        function fallback() {
          selectText(target);
          var copied = false;
          try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
          status.textContent = copied ? "Copied" : "Selected: press Ctrl+C to copy";
        }
        status.textContent = "";
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () {
            status.textContent = "Copied";
          }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  /* The header's project switcher: a choice opens that project's stream. */
  function projectSwitcher(root) {
    root.querySelectorAll("form[data-project-switcher]").forEach(function (form) {
      var select = form.querySelector("select");
      var button = form.querySelector("[data-switch-button]");
      if (!select) { return; }
      if (button) { button.hidden = true; }
      select.addEventListener("change", function () { form.submit(); });
    });
  }

  /*
   * Keyboard steps through a group's occurrences: j or ArrowLeft opens the
   * previous (older) one, k or ArrowRight the next (newer) one. Keys typed
   * into a field, or with a modifier, are left alone.
   */
  var EVENT_KEYS = { j: "previous", ArrowLeft: "previous", k: "next", ArrowRight: "next" };

  function isTyping(target) {
    if (!target || !target.closest) { return false; }
    return !!target.closest("input, textarea, select, [contenteditable]") ||
      !!target.isContentEditable;
  }

  function eventShortcuts() {
    var nav = document.querySelector("[data-event-nav]");
    if (!nav) { return; }
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey ||
          event.shiftKey || isTyping(event.target)) { return; }
      var name = EVENT_KEYS[event.key];
      var link = name && nav.querySelector("a[data-event-link='" + name + "']");
      if (!link) { return; }
      event.preventDefault();
      window.location.assign(link.href);
    });
  }

  function start() {
    copyButtons(document);
    projectSwitcher(document);
    resolveForms(document);
    bulkSelection();
    frameTools(document);
    eventShortcuts();
    refreshTimes(document);
    document.querySelectorAll("table[data-live]").forEach(liveStream);
    window.setInterval(function () { refreshTimes(document); }, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
