// @mention autocomplete on every textarea[data-mentions] (the URL of the
// workspace's members, JSON). Type @ and a few letters: a listbox of members
// opens under the field; ArrowUp/ArrowDown move, Enter or Tab inserts
// "@username ", Escape closes. ARIA combobox: focus stays in the textarea,
// the active option is its aria-activedescendant. No inline scripts (CSP).
(function () {
  "use strict";
  var box = null, field = null, items = [], active = -1, start = -1, seq = 0;

  function close() {
    if (box) box.remove();
    box = null; items = []; active = -1; start = -1;
    if (field) {
      field.setAttribute("aria-expanded", "false");
      field.removeAttribute("aria-activedescendant");
    }
  }

  function prepare(el) {
    if (el.dataset.mentionsReady) return;
    el.dataset.mentionsReady = "1";
    el.setAttribute("role", "combobox");
    el.setAttribute("aria-autocomplete", "list");
    el.setAttribute("aria-expanded", "false");
  }

  function query(el) {
    var upto = el.value.slice(0, el.selectionStart);
    var m = /(^|[^\w@])@([\w.+-]{0,30})$/.exec(upto);
    if (!m) return null;
    return { at: upto.length - m[2].length - 1, text: m[2] };
  }

  function select(i) {
    var opts = box ? box.querySelectorAll('[role="option"]') : [];
    active = i;
    for (var k = 0; k < opts.length; k++) opts[k].setAttribute("aria-selected", k === i ? "true" : "false");
    if (opts[i]) field.setAttribute("aria-activedescendant", opts[i].id);
  }

  function choose(i) {
    var user = items[i];
    if (!user || start < 0) return;
    var v = field.value, caret = field.selectionStart;
    var insert = "@" + user.username + " ";
    field.value = v.slice(0, start) + insert + v.slice(caret);
    var pos = start + insert.length;
    field.setSelectionRange(pos, pos);
    close();
    field.focus();
  }

  function show(el, results, at) {
    close();
    field = el; items = results; start = at;
    if (!results.length) return;
    box = document.createElement("ul");
    box.className = "mention-box";
    box.id = (el.id || "mentions") + "-listbox";
    box.setAttribute("role", "listbox");
    box.setAttribute("aria-label", "Members to mention");
    results.forEach(function (user, i) {
      var li = document.createElement("li");
      li.id = box.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = "@" + user.username + (user.name ? " — " + user.name : "");
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      box.appendChild(li);
    });
    var r = el.getBoundingClientRect();
    box.style.left = (window.scrollX + r.left) + "px";
    box.style.top = (window.scrollY + r.bottom + 2) + "px";
    document.body.appendChild(box);
    el.setAttribute("aria-controls", box.id);
    el.setAttribute("aria-expanded", "true");
    select(0);
  }

  document.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("textarea[data-mentions]")) return;
    prepare(el);
    var q = query(el);
    if (!q) { close(); return; }
    var mine = ++seq;
    fetch(el.dataset.mentions + "?q=" + encodeURIComponent(q.text), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (mine === seq) show(el, data.results || [], q.at); })
      .catch(function () { close(); });
  });

  document.addEventListener("keydown", function (e) {
    if (!box || e.target !== field) return;
    if (e.key === "ArrowDown") { e.preventDefault(); select((active + 1) % items.length); }
    else if (e.key === "ArrowUp") { e.preventDefault(); select((active - 1 + items.length) % items.length); }
    else if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); choose(active < 0 ? 0 : active); }
    else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
  }, true);

  document.addEventListener("focusout", function (e) { if (e.target === field) setTimeout(close, 150); });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-mentions]")) prepare(e.target);
  });
})();

// Discussion lists refresh themselves on live events (docs/live.md), but
// never under someone's hands: a list with an open picker, reply or edit box,
// or with the focus inside, is marked stale and refreshed once it is idle.
(function () {
  "use strict";

  function busy(list) {
    return list.contains(document.activeElement) || !!list.querySelector("details[open]");
  }

  function refresh(list) {
    if (busy(list)) { list.setAttribute("data-stale", ""); return; }
    list.removeAttribute("data-stale");
    if (window.htmx) window.htmx.trigger(list, "discussion-refresh");
  }

  document.addEventListener("pmhub:live", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".discussion-list"), refresh);
  });

  function idleAgain(e) {
    var list = e.target.closest && e.target.closest(".discussion-list[data-stale]");
    if (list) setTimeout(function () { if (list.isConnected) refresh(list); }, 0);
  }
  // A refresh that was already on its way when the person started using the
  // list (opened a picker, focused a reply) is dropped, and comes again later.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var list = e.detail.elt;
    if (list && list.classList && list.classList.contains("discussion-list") && busy(list)) {
      e.detail.shouldSwap = false;
      list.setAttribute("data-stale", "");
    }
  });

  document.addEventListener("focusout", idleAgain);
  document.addEventListener("toggle", idleAgain, true);
})();
