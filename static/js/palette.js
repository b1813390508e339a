// The command palette (Ctrl/⌘+K), the "?" shortcuts overlay and the undo
// shortcut. Options come from the server (pmhub/palette.py renders
// templates/_palette_results.html); this file only moves the active option
// and opens it. ARIA combobox + listbox: focus stays in the input and the
// active option is its aria-activedescendant. No inline scripts (CSP).
(function () {
  "use strict";

  // True while the person is typing somewhere: single-key shortcuts stay off.
  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    var field = target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
    if (!field) return false;
    var type = (field.getAttribute("type") || "").toLowerCase();
    return !(field.tagName === "INPUT" && (type === "checkbox" || type === "radio" || type === "button" || type === "submit"));
  }
  window.PMHub = window.PMHub || {};
  window.PMHub.typing = typing;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  var dialog, input, list, status, timer, controller, opener, pending = false;

  function options() { return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])')) : []; }

  function setActive(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); o.classList.toggle("is-active", o === option); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function active() { return list.querySelector('[role="option"][aria-selected="true"]'); }

  // The object on screen: a focused backlog row wins over the page's own.
  function context() {
    var body = document.body;
    var product = body.dataset.paletteProduct || "";
    var row = document.activeElement && document.activeElement.closest && document.activeElement.closest("tr[data-number]");
    if (!row && dialog && dialog.dataset.rowNumber) row = {dataset: {number: dialog.dataset.rowNumber}};
    if (row && product) return "item:" + product + "-" + row.dataset.number;
    return body.dataset.paletteContext || "";
  }

  function load() {
    if (controller) controller.abort();
    controller = new AbortController();
    var params = new URLSearchParams({q: input.value, context: dialog.dataset.context || "", product: document.body.dataset.paletteProduct || ""});
    dialog.setAttribute("aria-busy", "true");
    fetch(dialog.dataset.paletteUrl + "?" + params.toString(), {credentials: "same-origin", signal: controller.signal})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        list.innerHTML = html;
        var all = options();
        input.setAttribute("aria-expanded", all.length ? "true" : "false");
        setActive(all[0] || null);
        status.textContent = all.length ? all.length + " result" + (all.length === 1 ? "" : "s") : "No results";
        dialog.removeAttribute("aria-busy");
        if (pending) { pending = false; run(active()); }
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        dialog.removeAttribute("aria-busy");
        status.textContent = "The search failed; try again.";
      });
  }

  function open() {
    if (!dialog || dialog.open) return;
    opener = document.activeElement;
    var row = opener && opener.closest && opener.closest("tr[data-number]");
    dialog.dataset.rowNumber = row ? row.dataset.number : "";
    dialog.dataset.context = context();
    input.value = "";
    list.innerHTML = "";
    pending = false;
    dialog.showModal();
    input.focus();
    load();
  }

  function close() { if (dialog && dialog.open) dialog.close(); }

  function run(option) {
    if (!option) return;
    var url = option.dataset.url;
    if (option.dataset.method !== "post") { window.location.assign(url); return; }
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.hidden = true;
    var fields = {};
    try { fields = JSON.parse(option.dataset.fields || "{}"); } catch (e) { fields = {}; }
    fields.csrfmiddlewaretoken = csrfToken();
    fields.next = window.location.pathname + window.location.search;
    Object.keys(fields).forEach(function (name) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      field.value = fields[name];
      form.appendChild(field);
    });
    document.body.appendChild(form);
    status.textContent = "Running: " + option.querySelector(".palette-label").textContent;
    form.submit();
  }

  function move(step) {
    var all = options();
    if (!all.length) return;
    var at = all.indexOf(active());
    var next = step === Infinity ? all.length - 1 : step === -Infinity ? 0 : (at + step + all.length) % all.length;
    setActive(all[next]);
  }

  function init() {
    dialog = document.getElementById("palette");
    if (!dialog) return;
    input = document.getElementById("palette-input");
    list = document.getElementById("palette-list");
    status = document.getElementById("palette-status");
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; load(); }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "PageDown" || (event.key === "End" && event.ctrlKey)) { event.preventDefault(); move(Infinity); }
      else if (event.key === "PageUp" || (event.key === "Home" && event.ctrlKey)) { event.preventDefault(); move(-Infinity); }
      else if (event.key === "Enter") {
        event.preventDefault();
        // Enter right after typing: run the first option of what was typed,
        // once it has arrived.
        if (timer) { clearTimeout(timer); timer = null; pending = true; load(); return; }
        if (dialog.getAttribute("aria-busy") === "true") { pending = true; return; }
        run(active());
      }
    });
    list.addEventListener("mousemove", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option && option !== active() && option.getAttribute("aria-disabled") !== "true") setActive(option);
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option && option.getAttribute("aria-disabled") !== "true") run(option);
    });
    dialog.addEventListener("close", function () {
      if (controller) controller.abort();
      input.setAttribute("aria-expanded", "false");
      if (opener && opener.focus && document.contains(opener)) opener.focus();
    });
    // A click on the backdrop (outside the box) closes it.
    dialog.addEventListener("click", function (event) { if (event.target === dialog) close(); });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-palette-open]")) { event.preventDefault(); open(); }
  });

  document.addEventListener("keydown", function (event) {
    var key = event.key;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (key === "k" || key === "K")) {
      if (!dialog) return;
      event.preventDefault();
      if (dialog.open) close(); else open();
      return;
    }
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var singleKeys = !window.pmhubSingleKeys || window.pmhubSingleKeys();
    if (key === "?" && singleKeys && !typing(event.target)) {
      var help = document.getElementById("shortcuts");
      if (help && !help.open && !(dialog && dialog.open)) {
        event.preventDefault();
        help.showModal();
        var closeButton = help.querySelector("button");
        if (closeButton) closeButton.focus();
      }
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
