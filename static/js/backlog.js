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

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function () { init(document); });

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
