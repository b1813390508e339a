// Live updates (docs/live.md): the workspace's changes arrive over one
// Server-Sent Events stream; each region of the page that shows a changed
// object is fetched again from the page's own view (the same templates) and
// swapped in place. A region being edited is never swapped: it shows
// "changed by … — reload" instead, and the server's version check still
// refuses a stale save. Presence: a heartbeat says which page this is and
// what is being edited; the answer lists who else is here.
//
// Regions declare what they show (data-live-region, space-separated):
//   type:backlog.item          any object of this type (data-live-product narrows to one product)
//   parent:roadmaps.roadmap:5  objects that belong to this one (a roadmap's entries)
//   object:backlog.item:42     this object
//   key:.rm-key                objects whose key (PAY-42) a matching element in the region shows
// data-live-rows="backlog.item:row-" maps an object to its element (#row-42);
// data-live-row-src (editors only) fetches one row: "…/items/0/…" with the
// row's data-number for 0. data-live-src is the region's own partial URL
// (fetched with HX-Request); without it the page itself is fetched.
//
// Every change is also fired on document as a "pmhub:live" CustomEvent
// (detail: the change), for other features to refresh themselves.
(function () {
  "use strict";

  var config, source, lastId, retryDelay = 1000, retryTimer = null, pausedTimer = null;
  var client = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var timers = new WeakMap(), pending = new Set(), editingKey = null, others = [];
  var STRUCTURAL = /\.(created|deleted|moved|added|removed|score_changed|activated)$/;

  function $(id) { return document.getElementById(id); }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // --- the stream -------------------------------------------------------------------------------
  function connect() {
    retryTimer = null;
    var shared = config.hasAttribute("data-shared");
    var url = config.dataset.stream + (lastId && !shared ? "?since=" + encodeURIComponent(lastId) : "");
    source = new EventSource(url);
    source.addEventListener("hello", function (event) {
      if (event.lastEventId) lastId = event.lastEventId;
      retryDelay = 1000;
      setPaused(false);
    });
    source.addEventListener("change", function (event) {
      lastId = event.lastEventId || lastId;
      var change;
      try { change = JSON.parse(event.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("pmhub:live", {detail: Object.assign({event_id: event.lastEventId}, change)}));
      handle(change);
    });
    // The shared roadmap page: told only that it changed, it refetches itself.
    source.addEventListener("changed", function () {
      document.dispatchEvent(new CustomEvent("pmhub:live", {detail: {verb: "shared.changed"}}));
      Array.prototype.forEach.call(document.querySelectorAll("[data-live-region]"), refresh);
    });
    source.addEventListener("role", function () {
      notice(document.getElementById("main"), "Your role in this workspace changed.", "live-role");
    });
    source.addEventListener("revoked", function () {
      stop();
      notice(document.getElementById("main"), "You are no longer a member of this workspace.", "live-revoked");
    });
    source.addEventListener("reset", function () {
      stop();
      if (!anyEditing()) window.location.reload();
      else notice(document.getElementById("main"), "Many changes arrived meanwhile.", "live-reset");
    });
    source.onerror = function () {
      // The server ended the stream or the network dropped: resume from the
      // last event id after a pause that doubles up to 30 s.
      source.close();
      source = null;
      if (!pausedTimer) pausedTimer = setTimeout(function () { setPaused(true); }, 1500);
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  function stop() {
    if (source) source.close();
    source = null;
    if (retryTimer) clearTimeout(retryTimer);
  }

  function setPaused(paused) {
    if (!paused && pausedTimer) { clearTimeout(pausedTimer); pausedTimer = null; }
    var banner = $("live-paused");
    if (banner) banner.hidden = !paused;
    document.documentElement.classList.toggle("live-is-paused", paused);
  }

  // --- matching a change to regions -------------------------------------------------------------
  function matches(region, change) {
    var product = region.getAttribute("data-live-product");
    var tokens = (region.getAttribute("data-live-region") || "").split(/\s+/);
    return tokens.some(function (token) {
      var colon = token.indexOf(":");
      if (colon < 0) return false;
      var kind = token.slice(0, colon), value = token.slice(colon + 1);
      if (kind === "type") {
        return change.type === value && (!product || change.product === null || String(change.product) === product);
      }
      if (kind === "parent") return change.parent === value;
      if (kind === "object") return change.type + ":" + change.id === value;
      if (kind === "key") {
        return !!change.key && Array.prototype.some.call(region.querySelectorAll(value), function (el) {
          return el.textContent.trim() === change.key;
        });
      }
      return false;
    });
  }

  function elementOf(region, change) {
    var rows = region.getAttribute("data-live-rows");
    if (!rows) return null;
    var colon = rows.lastIndexOf(":");
    if (rows.slice(0, colon) !== change.type) return null;
    var el = $(rows.slice(colon + 1) + change.id);
    return el && region.contains(el) ? el : null;
  }

  function isEditing(el) {
    if (!el) return false;
    if (el.querySelector("[data-cell-editor], form[data-inline], details[open] > form, [data-live-dirty], .sortable-chosen, .is-dragging, .was-dragged")) return true;
    var active = document.activeElement;
    if (active && el.contains(active) && active.matches("input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]")) return true;
    return el.matches("[data-live-dirty], form[data-inline]");
  }

  function anyEditing() {
    return Array.prototype.some.call(document.querySelectorAll("[data-live-region]"), isEditing);
  }

  function handle(change) {
    var me = config.dataset.me;
    if (change.actor_id !== null && String(change.actor_id) === me) return; // this page made it
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-region]"), function (region) {
      if (!matches(region, change)) return;
      var el = elementOf(region, change);
      var who = change.actor || "someone";
      if (el && isEditing(el)) {
        notice(el, "Changed by " + who + ".", "live-conflict");
        return;
      }
      if (el && !STRUCTURAL.test(change.verb) && region.getAttribute("data-live-row-src") && el.getAttribute("data-number")) {
        swapRow(region, el);
        return;
      }
      if (isEditing(region)) {
        var self = (region.getAttribute("data-live-region") || "").split(/\s+/).indexOf("object:" + change.type + ":" + change.id) >= 0;
        if (self) notice(region, "Changed by " + who + ".", "live-conflict");
        else pending.add(region.id);
        return;
      }
      refresh(region);
    });
  }

  // A message inside the element being edited; the Reload link reloads the page.
  function notice(el, text, kind) {
    if (!el) return;
    var box = el.matches("tr") ? (el.querySelector(".col-title") || el.lastElementChild) : el;
    var old = box.querySelector(":scope > .live-notice");
    if (old) old.remove();
    var p = document.createElement("p");
    p.className = "live-notice small " + kind;
    p.setAttribute("role", "alert");
    p.appendChild(document.createTextNode(text + " "));
    var a = document.createElement("a");
    a.href = window.location.href;
    a.textContent = "Reload";
    p.appendChild(a);
    box.insertBefore(p, box.firstChild);
  }

  // --- swapping ----------------------------------------------------------------------------------
  function later(el, fn) {
    // Several changes in a burst (a bulk edit) fetch a row once.
    if (timers.has(el)) return;
    timers.set(el, setTimeout(function () { timers.delete(el); fn(); }, 120));
  }

  function fetchHtml(url, target) {
    var headers = target ? {"HX-Request": "true", "HX-Target": target} : {};
    return fetch(url, {headers: headers, credentials: "same-origin"}).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    });
  }

  // Where an element sits under root, as child indexes (to find the same
  // control in the fresh copy when it has no id: a cell's button).
  function pathTo(root, el) {
    var path = [];
    while (el && el !== root) {
      var parent = el.parentElement;
      if (!parent) return null;
      path.unshift(Array.prototype.indexOf.call(parent.children, el));
      el = parent;
    }
    return el === root ? path : null;
  }

  function follow(root, path) {
    var el = root;
    for (var i = 0; el && i < path.length; i++) el = el.children[path[i]];
    return el;
  }

  function replace(current, fresh) {
    var active = document.activeElement;
    var inside = active && active !== document.body && current.contains(active);
    var activeId = inside && active.id ? active.id : null;
    var path = inside && !activeId ? pathTo(current, active) : null;
    var tag = inside ? active.tagName : null, cls = inside ? active.className : null;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    fresh.dispatchEvent(new CustomEvent("pmhub:live-swap", {bubbles: true}));
    if (activeId && $(activeId)) {
      $(activeId).focus({preventScroll: true});
    } else if (path) {
      // The focus stays on the same control: a swap never strands it on <body>.
      var same = follow(fresh, path);
      if (same && same.tagName === tag && same.className === cls) same.focus({preventScroll: true});
    }
    paintEditors();
  }

  // Regions that fetch the same URL (the page itself, usually) share one
  // request per burst of changes.
  var queued = {};
  function refresh(region) {
    var src = region.getAttribute("data-live-src") || "";
    var batch = queued[src];
    if (!batch) batch = queued[src] = {ids: new Set(), timer: null, target: region.id};
    batch.ids.add(region.id);
    if (batch.timer) return;
    batch.timer = setTimeout(function () {
      delete queued[src];
      fetchHtml(src || window.location.href, src ? batch.target : null).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        batch.ids.forEach(function (id) {
          var current = $(id), fresh = doc.getElementById(id);
          if (!current || !fresh) return;
          if (isEditing(current)) { pending.add(id); return; }
          replace(current, document.importNode(fresh, true));
        });
      }).catch(function (error) {
        if (error.message === "404") batch.ids.forEach(function (id) { notice($(id), "This was deleted or moved.", "live-gone"); });
      });
    }, 120);
  }

  function swapRow(region, el) {
    later(el, function () {
      var url = region.getAttribute("data-live-row-src").replace("/items/0/", "/items/" + el.getAttribute("data-number") + "/");
      fetchHtml(url, el.id).then(function (html) {
        var current = $(el.id);
        if (!current || isEditing(current)) return;
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.firstElementChild;
        if (!fresh || fresh.id !== el.id) return;
        replace(current, fresh);
      }).catch(function () { refresh(region); });
    });
  }

  // After an edit ends, regions that changed meanwhile catch up.
  function flushPending() {
    pending.forEach(function (id) {
      var region = $(id);
      if (region && !isEditing(region)) { pending.delete(id); refresh(region); }
    });
  }

  // --- presence -----------------------------------------------------------------------------------
  function currentEditing() {
    var found = null;
    Array.prototype.some.call(document.querySelectorAll("[data-live-rows]"), function (region) {
      var rows = region.getAttribute("data-live-rows");
      var colon = rows.lastIndexOf(":"), prefix = rows.slice(colon + 1);
      return Array.prototype.some.call(region.querySelectorAll("[id^='" + prefix + "']"), function (el) {
        var active = document.activeElement;
        if (isEditing(el) || (active && active === el && el.matches(".rm-card"))) {
          found = rows.slice(0, colon) + ":" + el.id.slice(prefix.length);
          return true;
        }
        return false;
      });
    });
    return found;
  }

  function beat(leave) {
    var body = new URLSearchParams();
    body.set("page", config.dataset.page);
    body.set("client", client);
    body.set("editing", editingKey || "");
    if (leave) {
      body.set("leave", "1");
      body.set("csrfmiddlewaretoken", csrfToken());
      if (navigator.sendBeacon) navigator.sendBeacon(config.dataset.presence, body);
      return;
    }
    fetch(config.dataset.presence, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded"},
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (json) {
      if (!json) return;
      others = json.others || [];
      paintPeople();
      paintEditors();
    }).catch(function () {});
  }

  function paintPeople() {
    var list = $("live-people");
    if (!list) return;
    list.textContent = "";
    var seen = {};
    others.forEach(function (person) {
      if (seen[person.user]) return;
      seen[person.user] = true;
      var li = document.createElement("li");
      li.className = "live-person";
      li.title = person.name + (person.editing ? " (editing)" : "");
      var initials = document.createElement("span");
      initials.className = "live-initials";
      initials.setAttribute("aria-hidden", "true");
      initials.textContent = person.initials;
      var name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = person.name;
      li.appendChild(initials);
      li.appendChild(name);
      list.appendChild(li);
    });
    list.setAttribute("aria-label", others.length ? "Also on this page" : "Nobody else on this page");
  }

  function paintEditors() {
    Array.prototype.forEach.call(document.querySelectorAll(".live-who"), function (el) { el.remove(); });
    Array.prototype.forEach.call(document.querySelectorAll(".live-editing"), function (el) { el.classList.remove("live-editing"); });
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-rows]"), function (region) {
      var rows = region.getAttribute("data-live-rows");
      var colon = rows.lastIndexOf(":"), type = rows.slice(0, colon), prefix = rows.slice(colon + 1);
      others.forEach(function (person) {
        if (!person.editing || person.editing.indexOf(type + ":") !== 0) return;
        var el = $(prefix + person.editing.slice(type.length + 1));
        if (!el || !region.contains(el)) return;
        el.classList.add("live-editing");
        var who = document.createElement("span");
        who.className = "live-who";
        who.title = person.name + " is editing";
        who.textContent = person.initials;
        var box = el.matches("tr") ? (el.querySelector(".col-title") || el.lastElementChild) : el;
        box.insertBefore(who, box.firstChild);
      });
    });
  }

  function editingChanged() {
    var key = currentEditing();
    if (key !== editingKey) { editingKey = key; beat(false); }
    if (!anyEditing()) flushPending();
  }

  // --- start ------------------------------------------------------------------------------------
  function start() {
    config = $("live");
    if (!config || !window.EventSource || !window.fetch) return;
    config.hidden = false;
    lastId = config.dataset.since;
    connect();
    if (config.hasAttribute("data-shared")) {
      window.addEventListener("pagehide", stop);
      return;
    }
    beat(false);
    setInterval(function () { beat(false); }, 4000);
    // Typing in a form marks it dirty until it is submitted or swapped away.
    document.addEventListener("input", function (event) {
      var form = event.target.closest && event.target.closest("form");
      if (form && form.closest("[data-live-region]") && !form.matches("[role=search], .filters")) form.setAttribute("data-live-dirty", "");
    });
    document.addEventListener("submit", function (event) {
      if (event.target.removeAttribute) event.target.removeAttribute("data-live-dirty");
    }, true);
    ["focusin", "focusout", "htmx:afterSwap", "htmx:afterSettle"].forEach(function (name) {
      document.addEventListener(name, function () { setTimeout(editingChanged, 0); });
    });
    window.addEventListener("pagehide", function () { beat(true); stop(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
