// Backlog table: drag-and-drop ranking (SortableJS) and bulk selection (the
// cell editors' selects are app.js's select editors). No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function initSortable(tbody) {
    if (!tbody || tbody.dataset.sortableReady || typeof Sortable === "undefined") return;
    tbody.dataset.sortableReady = "1";
    var template = tbody.dataset.moveUrlTemplate; // .../items/0/move/
    Sortable.create(tbody, {
      handle: ".handle",
      draggable: "tr[data-id]",
      animation: 120,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        var row = event.item;
        var prev = row.previousElementSibling;
        var next = row.nextElementSibling;
        while (prev && !prev.dataset.id) prev = prev.previousElementSibling;
        while (next && !next.dataset.id) next = next.nextElementSibling;
        var body = new URLSearchParams();
        // Only one neighbour is needed, and it is always valid, even when
        // filters hide rows in between: above the next visible row, or else
        // below the previous one (the end of the loaded list).
        if (next) body.set("before", next.dataset.id);
        else if (prev) body.set("after", prev.dataset.id);
        var url = template.replace("/items/0/", "/items/" + row.dataset.number + "/");
        fetch(url, {
          method: "POST",
          headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true",
                    "Content-Type": "application/x-www-form-urlencoded"},
          body: body.toString(),
          credentials: "same-origin",
        }).then(function (response) {
          if (!response.ok) document.body.dispatchEvent(new CustomEvent("backlog-reload"));
          else row.classList.add("just-moved");
        });
      },
    });
  }

  function updateBulkBar() {
    var bar = document.querySelector("[data-bulk-bar]");
    if (!bar) return;
    var checked = document.querySelectorAll('input[name="items"][form="bulk-form"]:checked').length;
    bar.querySelector("[data-bulk-count]").textContent = checked;
    bar.classList.toggle("is-active", checked > 0);
  }

  function init(root) {
    initSortable((root || document).querySelector("tbody[data-sortable]"));
    updateBulkBar();
  }

  // Quick add: the new row is put at the top of the table (where the person
  // is looking), highlighted; the input is cleared for the next title and a
  // status line (a live region) confirms. Errors arrive in the same line.
  document.addEventListener("item-added", function (event) {
    var form = document.querySelector("[data-quick-add]");
    if (!form) return;
    var input = form.querySelector('input[name="title"]');
    var status = form.querySelector(".quick-add-status");
    delete form.dataset.sent;
    input.removeAttribute("aria-invalid");
    if (document.activeElement !== input) input.focus();
    status.classList.remove("is-error");
    status.textContent = "Added " + event.detail.key + (event.detail.top
      ? " at the top of the backlog."
      : " — shown here; under this sort or filter it is ranked last.");
    var row = document.getElementById("row-" + event.detail.id);
    if (row) {
      row.classList.add("just-added");
      row.scrollIntoView({block: "nearest"});
    }
  });
  // The input is cleared as soon as the title is sent (the request already
  // holds it), so the next title can be typed at once; a refused one comes back.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-quick-add]")) return;
    var input = form.querySelector('input[name="title"]');
    form.dataset.sent = input.value;
    input.value = "";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-quick-add]") || event.detail.successful) return;
    var input = form.querySelector('input[name="title"]');
    if (!input.value && form.dataset.sent) input.value = form.dataset.sent;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var status = event.detail.target;
    if (status.id !== "quick-add-status") return;
    status.classList.add("is-error");
    var form = status.closest("form");
    var input = form.querySelector('input[name="title"]');
    if (!input.value && form.dataset.sent) input.value = form.dataset.sent;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  });

  // The rows' ⤒ ↑ ↓ buttons: without JavaScript they submit #move-form and
  // the page reloads; here the row moves in place and keeps its focus, so the
  // same button can be pressed again.
  function rowSibling(row, forward) {
    var next = forward ? row.nextElementSibling : row.previousElementSibling;
    while (next && !next.dataset.id) next = forward ? next.nextElementSibling : next.previousElementSibling;
    return next;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (form.id !== "move-form" || !button || !button.value) return;
    event.preventDefault();
    var row = button.closest("tr[data-id]");
    var to = button.value;
    var body = new URLSearchParams(new FormData(form));
    body.set("to", to);
    fetch(button.formAction, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString(),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) { document.body.dispatchEvent(new CustomEvent("backlog-reload")); return; }
      var tbody = row.parentNode;
      if (to === "top") tbody.insertBefore(row, tbody.querySelector("tr[data-id]"));
      else if (to === "up" && rowSibling(row, false)) tbody.insertBefore(row, rowSibling(row, false));
      else if (to === "down" && rowSibling(row, true)) tbody.insertBefore(row, rowSibling(row, true).nextSibling);
      row.classList.add("just-moved");
      button.focus();
      var status = document.getElementById("move-status");
      if (status) status.textContent = button.getAttribute("aria-label").replace(/^Move/, "Moved") + ".";
    });
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function () { init(document); });
  document.addEventListener("pmhub:live-swap", function () { init(document); });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches('input[name="items"]')) updateBulkBar();
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="items"][form="bulk-form"]').forEach(function (box) {
        box.checked = target.checked;
      });
      updateBulkBar();
    }
  });
})();
