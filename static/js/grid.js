// The backlog table as an ARIA grid: one tab stop for the whole table (the
// current row), arrow keys and j/k between rows, ←/→ into a row's cells and
// between them, and single-key commands on the focused row (e edit title,
// s status, x select, Alt+↑/↓ move, Alt+Home to the top). Single keys never
// fire while typing in a field. Also: the bulk bar shows only while items
// are selected. No inline scripts (CSP).
(function () {
  "use strict";

  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function typing(target) {
    return window.PMHub && window.PMHub.typing ? window.PMHub.typing(target) : false;
  }

  function grid() { return document.querySelector("table[data-grid]"); }
  function rows(table) { return Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]")); }
  function controls(row) {
    return Array.prototype.slice.call(row.querySelectorAll(FOCUSABLE)).filter(function (el) {
      return el.offsetParent !== null || el.getClientRects().length;
    });
  }

  // Everything inside rows leaves the tab order; the current row is the one stop.
  function prepare(table) {
    if (!table) return;
    var all = rows(table);
    var current = table.querySelector('tbody tr[data-id][tabindex="0"]');
    all.forEach(function (row) {
      row.querySelectorAll(FOCUSABLE).forEach(function (el) {
        if (!el.closest("form[data-inline]")) el.setAttribute("tabindex", "-1");
      });
      if (row !== current) row.setAttribute("tabindex", "-1");
      if (!row.hasAttribute("aria-label")) {
        var key = row.querySelector("td a");
        var title = row.querySelector(".col-title .cell-btn, .col-title");
        row.setAttribute("aria-label", ((key ? key.textContent : "") + " " + (title ? title.textContent.trim() : "")).trim());
      }
    });
    if (!current && all.length) all[0].setAttribute("tabindex", "0");
  }

  function focusRow(row) {
    if (!row) return;
    var table = row.closest("table");
    rows(table).forEach(function (r) { r.setAttribute("tabindex", r === row ? "0" : "-1"); });
    row.focus();
  }

  function currentRow(target) { return target && target.closest && target.closest("table[data-grid] tbody tr[data-id]"); }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function announce(text) {
    var region = document.getElementById("messages");
    if (!region) return;
    var note = document.createElement("p");
    note.className = "visually-hidden";
    note.textContent = text;
    region.appendChild(note);
    setTimeout(function () { note.remove(); }, 4000);
  }

  // Move the row in the manual rank through the same endpoint as ⤒ ↑ ↓; the
  // row moves in place and keeps the focus.
  function moveRow(row, to) {
    var tbody = row.parentElement;
    var template = tbody.dataset.moveUrlTemplate;
    if (!template) { announce("Switch to Manual rank to move items."); return; }
    var prev = row.previousElementSibling, next = row.nextElementSibling;
    while (prev && !prev.dataset.id) prev = prev.previousElementSibling;
    while (next && !next.dataset.id) next = next.nextElementSibling;
    if ((to === "up" || to === "top") && !prev) return;
    if (to === "down" && !next) return;
    var url = template.replace("/items/0/", "/items/" + row.dataset.number + "/");
    var body = new URLSearchParams({to: to});
    fetch(url, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString(),
      credentials: "same-origin",
      redirect: "manual",
    }).then(function (response) {
      if (!(response.ok || response.type === "opaqueredirect")) {
        document.body.dispatchEvent(new CustomEvent("backlog-reload"));
        return;
      }
      if (to === "top") tbody.insertBefore(row, rows(tbody.closest("table"))[0]);
      else if (to === "up") tbody.insertBefore(row, prev);
      else tbody.insertBefore(row, next.nextSibling);
      row.classList.add("just-moved");
      focusRow(row);
      var position = rows(tbody.closest("table")).indexOf(row) + 1;
      announce((row.getAttribute("aria-label") || "Item") + " moved to position " + position + ".");
    });
  }

  function clickCell(row, selector) {
    var button = row.querySelector(selector);
    if (button) button.click();
  }

  document.addEventListener("keydown", function (event) {
    var table = grid();
    if (!table) return;
    var target = event.target;
    var row = currentRow(target);
    var key = event.key;
    // Single characters obey the person's choice (WCAG 2.1.4); arrows always work.
    if (key.length === 1 && window.pmhubSingleKeys && !window.pmhubSingleKeys() && !event.altKey) return;
    // Page-wide single keys (outside fields): n new item, / search.
    if (!row && !typing(target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (key === "n") { var title = document.getElementById("id_title"); if (title) { event.preventDefault(); title.focus(); } return; }
      if (key === "/") { var search = document.getElementById("q"); if (search) { event.preventDefault(); search.focus(); } return; }
      if (key === "j" || key === "k") {
        var first = table.querySelector('tbody tr[data-id][tabindex="0"]') || rows(table)[0];
        if (first) { event.preventDefault(); focusRow(first); }
      }
      return;
    }
    if (!row || event.ctrlKey || event.metaKey) return;
    var onRow = target === row;
    if (!onRow && typing(target)) return; // an open cell editor handles its own keys
    var all = rows(table);
    var at = all.indexOf(row);
    if (event.altKey) {
      if (key === "ArrowUp") { event.preventDefault(); moveRow(row, "up"); }
      else if (key === "ArrowDown") { event.preventDefault(); moveRow(row, "down"); }
      else if (key === "Home") { event.preventDefault(); moveRow(row, "top"); }
      return;
    }
    if (key === "ArrowDown" || key === "j") { event.preventDefault(); focusRow(all[Math.min(at + 1, all.length - 1)]); }
    else if (key === "ArrowUp" || key === "k") { event.preventDefault(); focusRow(all[Math.max(at - 1, 0)]); }
    else if (key === "Home" && onRow) { event.preventDefault(); focusRow(all[0]); }
    else if (key === "End" && onRow) { event.preventDefault(); focusRow(all[all.length - 1]); }
    else if (key === "ArrowRight" || key === "ArrowLeft") {
      var cells = controls(row);
      var i = onRow ? -1 : cells.indexOf(target);
      event.preventDefault();
      if (key === "ArrowRight") { if (cells[i + 1]) cells[i + 1].focus(); }
      else if (i <= 0) focusRow(row);
      else cells[i - 1].focus();
    }
    else if (key === "Escape" && !onRow) { event.preventDefault(); focusRow(row); }
    else if (key === "Enter" && onRow) {
      var link = row.querySelector("td a[href]");
      if (link) { event.preventDefault(); window.location.assign(link.href); }
    }
    else if (key === "e") { event.preventDefault(); clickCell(row, ".col-title .cell-btn"); }
    else if (key === "s") { event.preventDefault(); clickCell(row, '.cell-btn[hx-get*="/cell/status/"]'); }
    else if (key === "x" || (key === " " && onRow)) {
      var box = row.querySelector('input[name="items"]');
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        row.classList.toggle("is-selected", box.checked);
        box.dispatchEvent(new Event("change", {bubbles: true}));
      }
    }
  });

  // The bulk bar only while something is selected.
  function updateBar() {
    var bar = document.querySelector("[data-bulk-bar]");
    if (!bar) return;
    var checked = document.querySelectorAll('input[name="items"][form="bulk-form"]:checked');
    bar.hidden = checked.length === 0;
    document.querySelectorAll("table[data-grid] tbody tr[data-id]").forEach(function (row) {
      var box = row.querySelector('input[name="items"]');
      row.classList.toggle("is-selected", !!(box && box.checked));
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches('input[name="items"], [data-select-all]')) setTimeout(updateBar, 0);
  });

  // A swapped row (a saved cell, an added item) joins the grid; if the swap
  // took the focus with it, it returns to the row.
  document.addEventListener("htmx:afterSwap", function (event) {
    var table = grid();
    prepare(table);
    updateBar();
    var elt = event.detail && event.detail.elt;
    var row = null;
    if (elt && elt.id && elt.id.indexOf("row-") === 0) row = document.getElementById(elt.id);
    else if (elt && elt.closest) row = elt.closest("tr[data-id]");
    if (row) lostRow = row;
  });
  // After app.js has had its turn (on afterSettle it returns the focus to the
  // control that opened the editor, the cell): only a focus still lost goes
  // to the row.
  var lostRow = null;
  document.addEventListener("htmx:afterSettle", function () {
    var row = lostRow;
    lostRow = null;
    setTimeout(function () {
      if (row && row.isConnected && (document.activeElement === document.body || !document.activeElement)) {
        var editor = row.querySelector("form[data-inline]");
        if (!editor) focusRow(row);
      }
    }, 0);
  });
  document.addEventListener("htmx:load", function () { prepare(grid()); updateBar(); });
  document.addEventListener("pmhub:live-swap", function () { prepare(grid()); updateBar(); });
  document.addEventListener("focusin", function (event) {
    var row = currentRow(event.target);
    if (row && row.getAttribute("tabindex") !== "0") {
      rows(row.closest("table")).forEach(function (r) { r.setAttribute("tabindex", r === row ? "0" : "-1"); });
    }
  });

  function init() { prepare(grid()); updateBar(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
