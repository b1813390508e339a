// Roadmap editor: drag cards between columns and lanes (SortableJS), move and
// resize timeline bars by dragging, and the keyboard alternatives. Every
// move names the version it was based on; a stale one is refused by the
// server (412), the board is reloaded and the conflict is shown.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function board() { return document.getElementById("rm-board"); }

  function showConflict(message) {
    var panel = document.getElementById("rm-conflict");
    if (!panel) return;
    panel.textContent = message;
  }

  function clearConflict() {
    var panel = document.getElementById("rm-conflict");
    if (panel) panel.textContent = "";
  }

  function post(url, data) {
    var body = new URLSearchParams();
    Object.keys(data).forEach(function (k) { if (data[k] !== undefined && data[k] !== null) body.set(k, data[k]); });
    return fetch(url, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString(),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {error: "The server answered " + response.status + "."}; })
        .then(function (json) { json.status = response.status; json.ok = response.ok; return json; });
    });
  }

  function entryUrl(template, id) { return template.replace("/entries/0/", "/entries/" + id + "/"); }

  // Reload the board (after a conflict, or to lay out bars again) and
  // give focus back to the entry that was being moved.
  function reloadBoard(focusId) {
    var url = window.location.pathname + "?partial=board";
    return fetch(url, {headers: {"HX-Request": "true"}, credentials: "same-origin"})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var old = board();
        if (!old) return;
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("#rm-board");
        if (!fresh) return;
        old.replaceWith(fresh);
        init();
        if (focusId) {
          var card = document.getElementById("entry-" + focusId);
          if (card) { card.focus(); card.classList.add("just-moved"); }
        }
      });
  }

  function handle(result, card, focusId) {
    if (result.ok) {
      clearConflict();
      if (card) {
        if (result.version) card.dataset.version = result.version;
        if (result.item_version) card.dataset.itemVersion = result.item_version;
      }
      return true;
    }
    showConflict(result.error || "That change was not saved.");
    reloadBoard(focusId);
    return false;
  }

  // --- columns and lanes (Now/Next/Later, status board) -----------------------------------------
  function neighbours(card) {
    var prev = card.previousElementSibling, next = card.nextElementSibling;
    while (prev && !prev.dataset.id) prev = prev.previousElementSibling;
    while (next && !next.dataset.id) next = next.nextElementSibling;
    return {before: next ? next.dataset.id : null, after: next ? null : (prev ? prev.dataset.id : null)};
  }

  function initColumns(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll(".rm-col[data-column]").forEach(function (col) {
      if (col.dataset.sortableReady) return;
      col.dataset.sortableReady = "1";
      Sortable.create(col, {
        group: "roadmap",
        draggable: ".rm-card[data-id]",
        animation: 120,
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          var card = event.item;
          var n = neighbours(card);
          var data = {version: card.dataset.version, item_version: card.dataset.itemVersion,
                      column: event.to.dataset.column, before: n.before, after: n.after};
          if (event.from.dataset.laneKey !== event.to.dataset.laneKey) {
            data.lane = event.to.dataset.lane;
            data.lane_key = event.to.dataset.laneKey; // derived lanes: the server explains
          }
          post(entryUrl(root.dataset.moveUrl, card.dataset.id), data).then(function (result) {
            if (handle(result, card, card.dataset.id)) {
              card.classList.add("just-moved");
              if (root.dataset.layout === "status" && event.from !== event.to) reloadBoard(card.dataset.id);
              updateCounts(root);
            }
          });
        },
      });
    });
  }

  function updateCounts(root) {
    root.querySelectorAll(".rm-column").forEach(function (column) {
      var count = column.querySelector(".rm-col-head .muted");
      if (count) count.textContent = column.querySelectorAll(".rm-card").length;
    });
  }

  // --- timeline bars ------------------------------------------------------------------------------
  function initTimeline(root) {
    root.querySelectorAll(".tl-bar[data-id]").forEach(function (bar) {
      if (bar.dataset.dragReady) return;
      bar.dataset.dragReady = "1";
      bar.addEventListener("pointerdown", function (event) {
        if (event.button !== 0) return;
        var resize = event.target.classList.contains("tl-grip");
        var lane = bar.closest(".tl-lane");
        var periods = parseInt(root.dataset.periods, 10) || 12;
        var colWidth = lane.getBoundingClientRect().width / periods;
        var startX = event.clientX, startY = event.clientY, moved = false, columns = 0;
        var target = lane;
        function onMove(e) {
          var dx = e.clientX - startX, dy = e.clientY - startY;
          if (!moved && Math.abs(dx) < 6 && Math.abs(dy) < 6) return;
          moved = true;
          bar.classList.add("is-dragging");
          bar.style.pointerEvents = "none"; // the lane under the pointer, not the bar
          columns = Math.round(dx / colWidth);
          if (!resize) {
            // Into another lane: the lane under the pointer, highlighted.
            var under = document.elementFromPoint(e.clientX, e.clientY);
            var over = under && under.closest(".tl-lane");
            if (over && root.contains(over) && over !== target) {
              if (target !== lane) target.classList.remove("is-drop-target");
              target = over;
              if (target !== lane) target.classList.add("is-drop-target");
            }
          }
          bar.style.transform = resize ? "" : "translate(" + (columns * colWidth) + "px, " + dy + "px)";
          if (resize) bar.style.marginRight = (-columns * colWidth) + "px";
        }
        function onUp() {
          document.removeEventListener("pointermove", onMove);
          document.removeEventListener("pointerup", onUp);
          if (!moved) return;
          bar.classList.remove("is-dragging");
          bar.style.pointerEvents = "";
          target.classList.remove("is-drop-target");
          if (target !== lane) { changeLane(root, bar, target, columns); return; }
          if (!columns) { bar.style.transform = ""; bar.style.marginRight = ""; return; }
          shift(root, bar, resize ? 0 : columns, resize ? columns : 0);
        }
        document.addEventListener("pointermove", onMove);
        document.addEventListener("pointerup", onUp);
      });
      // A drag must not follow the title link.
      bar.addEventListener("click", function (event) {
        if (bar.classList.contains("was-dragged")) { event.preventDefault(); bar.classList.remove("was-dragged"); }
      }, true);
    });
  }

  // A bar dropped in another lane: the lane first, then the dates if it
  // also moved sideways. Derived lanes (objective, product, tag) answer why not.
  function changeLane(root, bar, target, columns) {
    bar.classList.add("was-dragged");
    post(entryUrl(root.dataset.moveUrl, bar.dataset.id), {
      version: bar.dataset.version, lane: target.dataset.lane, lane_key: target.dataset.laneKey,
    }).then(function (result) {
      if (!handle(result, bar, bar.dataset.id)) return;
      if (columns) shift(root, bar, columns, 0);
      else reloadBoard(bar.dataset.id);
    });
  }

  function shift(root, bar, columns, resizeColumns) {
    var step = parseInt(root.dataset.step, 10) || 1;
    bar.classList.add("was-dragged");
    setTimeout(function () { bar.classList.remove("was-dragged"); }, 300);
    post(entryUrl(root.dataset.shiftUrl, bar.dataset.id), {
      version: bar.dataset.version, months: columns * step, resize: resizeColumns * step,
    }).then(function (result) {
      if (handle(result, bar, bar.dataset.id)) reloadBoard(bar.dataset.id);
    });
  }

  // --- keyboard -----------------------------------------------------------------------------------
  function onKey(event) {
    var card = event.target.closest && event.target.closest(".rm-card[data-id]");
    var root = board();
    if (!card || !root || event.target !== card) return;
    var layout = root.dataset.layout;
    var key = event.key;
    if (layout === "timeline") {
      if (key !== "ArrowLeft" && key !== "ArrowRight") return;
      event.preventDefault();
      var cols = key === "ArrowLeft" ? -1 : 1;
      if (event.shiftKey) shift(root, card, 0, cols); else shift(root, card, cols, 0);
      return;
    }
    if (!event.altKey) return;
    if (key === "ArrowUp" || key === "ArrowDown") {
      event.preventDefault();
      post(entryUrl(root.dataset.moveUrl, card.dataset.id), {
        version: card.dataset.version, steps: key === "ArrowUp" ? "-1" : "1",
      }).then(function (result) { if (handle(result, card, card.dataset.id)) reloadBoard(card.dataset.id); });
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      event.preventDefault();
      var col = card.closest(".rm-col");
      var cols2 = Array.prototype.slice.call(col.closest(".rm-columns").querySelectorAll(".rm-col"));
      var target = cols2[cols2.indexOf(col) + (key === "ArrowLeft" ? -1 : 1)];
      if (!target) return;
      var last = target.querySelectorAll(".rm-card[data-id]");
      post(entryUrl(root.dataset.moveUrl, card.dataset.id), {
        version: card.dataset.version, item_version: card.dataset.itemVersion, column: target.dataset.column,
        after: last.length ? last[last.length - 1].dataset.id : null,
      }).then(function (result) { if (handle(result, card, card.dataset.id)) reloadBoard(card.dataset.id); });
    }
  }

  function init() {
    var root = board();
    if (!root || !root.dataset.moveUrl) return;
    if (root.dataset.layout === "timeline") initTimeline(root); else initColumns(root);
  }

  document.addEventListener("DOMContentLoaded", init);
  // live.js swapped the board in after someone else's change.
  document.addEventListener("pmhub:live-swap", function (event) { if (event.target.id === "rm-board") init(); });
  document.addEventListener("keydown", onKey);
})();
