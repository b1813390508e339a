// Feedback triage inbox: keyboard shortcuts (j/k, l, 1-3, c, a, z, u, /, ?) that can be turned off,
// text selection → insight snippet offsets. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // --- selection → offsets -------------------------------------------------------------------

  function offsetsIn(container) {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
    var pre = document.createRange();
    pre.selectNodeContents(container);
    pre.setEnd(range.startContainer, range.startOffset);
    // Offsets in code points, as the server slices the text (an emoji is one
    // character there but two UTF-16 units in .length).
    var start = Array.from(pre.toString()).length;
    var end = start + Array.from(range.toString()).length;
    return end > start ? {start: start, end: end, text: range.toString()} : null;
  }

  function setOffsets(start, end) {
    $$("[data-fb-start]").forEach(function (el) { el.value = start; });
    $$("[data-fb-end]").forEach(function (el) { el.value = end; });
  }

  function onSelection() {
    var text = $("[data-fb-text]");
    var note = $("[data-fb-selection]");
    if (!text || !note) return;
    var found = offsetsIn(text);
    if (found) {
      setOffsets(found.start, found.end);
      var shown = found.text.length > 120 ? found.text.slice(0, 117) + "…" : found.text;
      note.textContent = "Snippet: “" + shown + "” (" + (found.end - found.start) + " characters)";
      text.classList.add("has-snippet");
    }
  }

  function clearSelection() {
    setOffsets("", "");
    var note = $("[data-fb-selection]");
    if (note) note.textContent = "";
    var text = $("[data-fb-text]");
    if (text) text.classList.remove("has-snippet");
  }

  // --- importance ----------------------------------------------------------------------------

  function syncImportance() {
    var checked = $("input[name=importance]:checked");
    if (!checked) return;
    $$("[data-fb-importance-copy]").forEach(function (el) { el.value = checked.value; });
  }

  // --- navigation ----------------------------------------------------------------------------

  function rows() { return $$("[data-fb-row]"); }

  function currentIndex() {
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("is-selected")) return i;
    }
    return -1;
  }

  function select(index) {
    var list = rows();
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row, i) {
      row.classList.toggle("is-selected", i === index);
      var a = row.querySelector("a");
      if (a) { if (i === index) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current"); }
    });
    var link = list[index].querySelector("a");
    list[index].scrollIntoView({block: "nearest"});
    if (link) link.click();
  }

  function toggleHelp() {
    var dialog = $("#fb-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  function focusFirst(selector) {
    var el = $(selector);
    if (el) el.focus();
    return el;
  }

  // --- single-key shortcuts: on unless the person turned them off (WCAG 2.1.4) -----------------
  // Remembered per browser; a speech-input user saying a word must not archive feedback.
  var SHORTCUTS_KEY = "pmhub:feedback-shortcuts";

  function shortcutsOn() {
    try { return window.localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (e) { return true; }
  }

  function syncShortcutsToggle() {
    $$("[data-fb-shortcuts]").forEach(function (box) { box.checked = shortcutsOn(); });
  }

  document.addEventListener("DOMContentLoaded", syncShortcutsToggle);
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-fb-shortcuts]")) return;
    try {
      if (event.target.checked) window.localStorage.removeItem(SHORTCUTS_KEY);
      else window.localStorage.setItem(SHORTCUTS_KEY, "off");
    } catch (e) { /* storage blocked: the choice lasts for this page */ }
    syncShortcutsToggle();
    if (window.pmhubAnnounce) window.pmhubAnnounce("Single-key shortcuts " + (event.target.checked ? "on." : "off."));
  });

  document.addEventListener("keydown", function (event) {
    if (!$("[data-fb-inbox]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Escape") {
      if (typing(target) || target.matches("[data-fb-suggestion]")) { target.blur(); }
      clearSelection();
      return;
    }
    // Enter in the item search box: link the first result (never the form's default button).
    if (event.key === "Enter" && target.matches("[data-fb-item-search]")) {
      event.preventDefault();
      var first = $("#item-results [data-fb-suggestion]");
      if (first) first.focus();
      return;
    }
    if (typing(target)) return;
    // Arrow keys move between suggestion buttons once one has focus.
    if (target.matches("[data-fb-suggestion]") && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      var buttons = $$("[data-fb-suggestion]");
      var i = buttons.indexOf(target) + (event.key === "ArrowDown" ? 1 : -1);
      if (buttons[i]) buttons[i].focus();
      event.preventDefault();
      return;
    }
    if (!shortcutsOn() || (target.matches && target.matches("[data-fb-shortcuts]"))) return;
    var key = event.key;
    var handled = true;
    if (key === "j") select(currentIndex() + 1);
    else if (key === "k") select(currentIndex() - 1);
    else if (key === "l") {
      if (!focusFirst("[data-fb-suggestion]")) focusFirst("[data-fb-item-search]");
    } else if (key === "c") {
      var title = focusFirst("[data-fb-create-title]");
      if (title) title.select();
    } else if (key === "a") { var archive = $("[data-fb-archive]"); if (archive) archive.click(); }
    else if (key === "z") { var undo = $("[data-fb-undo]"); if (undo) undo.click(); }
    else if (key === "u") { var reopen = $("[data-fb-reopen]"); if (reopen) reopen.click(); }
    else if (key === "/") focusFirst("[data-fb-search]");
    else if (key === "?") toggleHelp();
    else if (key === "1" || key === "2" || key === "3") {
      var radio = $('[data-fb-importance="' + key + '"]');
      if (radio) { radio.checked = true; syncImportance(); }
    } else handled = false;
    if (handled) event.preventDefault();
  });

  document.addEventListener("selectionchange", onSelection);
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=importance]")) syncImportance();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-fb-help]")) toggleHelp();
  });
  // After a swap of the detail pane: mark the selected row, reset the snippet.
  document.addEventListener("htmx:afterSwap", function () {
    var detail = $("[data-fb-selected]");
    if (detail) {
      var id = detail.getAttribute("data-fb-selected");
      rows().forEach(function (row) { row.classList.toggle("is-selected", row.getAttribute("data-fb-row") === id); });
    }
    syncImportance();
  });
})();
