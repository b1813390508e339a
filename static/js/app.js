// PMHub page behaviour. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  // Escape cancels an inline edit: it follows the form's Cancel link
  // (which htmx turns into a swap back to the saved version).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form[data-inline]");
    if (!form) {
      // Focus is outside any form: cancel the edit only when exactly one is open.
      var open = document.querySelectorAll("form[data-inline]");
      if (open.length !== 1) return;
      form = open[0];
    }
    var cancel = form.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // Cancel on a "new" form just removes the form (no server round trip).
  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest && event.target.closest("[data-dismiss]");
    if (!dismiss) return;
    var form = dismiss.closest("form[data-inline]");
    if (form && form.parentElement && form.parentElement.id) {
      event.preventDefault();
      form.remove();
    }
  });

  // When htmx brings in a form, put the cursor in its first field (or the
  // first field with an error). htmx:load fires on every new element.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.matches) return;
    var form = elt.matches("form[data-inline]") ? elt : elt.querySelector("form[data-inline]");
    if (!form) return;
    var field = form.querySelector(".has-error input, .has-error textarea, .has-error select")
      || form.querySelector("input:not([type=hidden]), textarea, select");
    if (field) field.focus();
  });

  // Copy buttons (share link, new token, invite link, webhook secret): data-copy
  // is the field's selector. The button says "Copied" for a moment.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select(); document.execCommand("copy"); done();
      });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });

  // --- Announcements -------------------------------------------------------------------------
  // Two live regions in the base layout: #announce (polite: saves, toasts) and
  // #announce-alert (assertive: conflicts, errors). Content that htmx swaps in
  // is new to the page, so a live region inside it is not announced reliably:
  // what it says is copied into these regions. Any script (or a response's
  // HX-Trigger: {"pmhub:announce": "..."}) can announce through the
  // "pmhub:announce" event; detail is the message, or {message, assertive}.
  function announce(message, assertive) {
    var region = document.getElementById(assertive ? "announce-alert" : "announce");
    if (!region || !message) return;
    message = String(message).replace(/\s+/g, " ").trim();
    // Clearing first makes a repeated message ("Saved.") be read again.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }
  window.pmhubAnnounce = announce;

  document.addEventListener("pmhub:announce", function (event) {
    var detail = event.detail;
    if (detail && typeof detail === "object" && "value" in detail) detail = detail.value; // HX-Trigger
    if (detail && typeof detail === "object") announce(detail.message, !!detail.assertive);
    else announce(detail, false);
  });

  function textOf(root, selector) {
    return Array.prototype.map.call(root.querySelectorAll(selector), function (el) {
      return el.textContent;
    }).join(" ").trim();
  }

  // What a finished htmx write says: a conflict, an error, a flash message, or "Saved."
  function announceSwap(root) {
    if (!root || !root.querySelectorAll) return;
    // A conflict panel says what happened in its first paragraph (the rest is their version).
    var conflict = Array.prototype.map.call(root.querySelectorAll(".conflict"), function (panel) {
      var first = panel.querySelector("p");
      return (first || panel).textContent;
    }).join(" ").trim();
    if (conflict) return announce(conflict, true);
    var errors = textOf(root, ".errorlist, .form-errors, [role=alert]");
    if (errors) return announce(errors, true);
    var flash = textOf(root, ".flash");
    if (flash) return announce(flash, /flash-error/.test(root.innerHTML));
    announce("Saved.", false);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = (xhr && xhr.status < 500 && xhr.responseText && xhr.responseText.length < 300)
      ? xhr.responseText.replace(/<[^>]*>/g, " ") : "";
    announce("Not saved: " + (text.trim() || (xhr ? "the server answered " + xhr.status : "an error")) + ".", true);
  });
  document.addEventListener("htmx:sendError", function () {
    announce("Not saved: the server could not be reached.", true);
  });

  // --- Focus after a swap ----------------------------------------------------------------
  // When htmx replaces the region that holds the focus (a cell saved or
  // cancelled with Escape, a strategy section saved, feedback linked), focus
  // would drop to <body>. It goes back to the control that opened the editor
  // (the element whose hx-get is the editor's URL), else to the element with
  // the same id, else to what the new content marks with data-focus-after-swap,
  // else to the swapped region itself.
  var pending = null;
  var lastGetPath = null;

  function pathOf(url) {
    try { return new URL(url, window.location.href).pathname; } catch (e) { return null; }
  }

  // Requests a page makes on its own (the bell, a discussion list's live
  // refresh: data-background) neither announce nor move the focus, and must
  // not take the place of the user's own request between its swap and settle.
  function background(detail) {
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    return !!(elt && elt.hasAttribute && elt.hasAttribute("data-background"));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (background(detail)) return;
    var config = detail.requestConfig || {};
    var verb = (config.verb || "get").toLowerCase();
    lastGetPath = verb === "get" && detail.pathInfo ? pathOf(detail.pathInfo.requestPath) : null;
    var target = detail.target;
    var active = document.activeElement;
    pending = {verb: verb, targetId: target && target.id};
    if (!active || active === document.body || !target || !target.contains(active)) {
      pending.focus = false;
      return;
    }
    var form = active.closest("form[data-inline]");
    pending.focus = true;
    pending.openedBy = form ? form.getAttribute("data-opened-by") : null;
    pending.id = active.id || null;
  });

  // New inline editors remember the URL that opened them (kept across a
  // re-render with errors).
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.querySelectorAll) return;
    var forms = elt.matches("form[data-inline]") ? [elt] : elt.querySelectorAll("form[data-inline]");
    Array.prototype.forEach.call(forms, function (form) {
      if (form.hasAttribute("data-opened-by")) return;
      var opener = (pending && pending.openedBy) || lastGetPath;
      if (opener) form.setAttribute("data-opened-by", opener);
    });
  });

  function visible(el) {
    return el && el.isConnected && el.getClientRects().length > 0;
  }

  function focusTarget(state) {
    var found = null;
    if (state.openedBy) {
      found = Array.prototype.find.call(document.querySelectorAll("[hx-get]"), function (el) {
        return visible(el) && pathOf(el.getAttribute("hx-get")) === state.openedBy;
      });
    }
    if (!found && state.id) {
      var same = document.getElementById(state.id);
      if (visible(same)) found = same;
    }
    var region = state.targetId ? document.getElementById(state.targetId) : null;
    if (!found) found = document.querySelector("[data-focus-after-swap]");
    if (!visible(found) && region) {
      if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
      found = region;
    }
    return found;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (background(event.detail)) return;
    var state = pending;
    if (!state) return;
    pending = null;
    var region = state.targetId ? document.getElementById(state.targetId) : null;
    if (state.verb !== "get") announceSwap(region || event.detail.elt);
    if (!state.focus) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return; // the new content took it
    var found = focusTarget(state);
    if (found) found.focus();
  });

  // --- Select editors ----------------------------------------------------------------------
  // An inline editor's <select data-submit-on-change> saves when the choice is
  // committed: Enter, a pick from the open list, or focus leaving the editor
  // with a new value. Arrow keys on the closed select only move through the
  // options (in Chromium they change the value and fire "change" at once,
  // which used to save the first option the keyboard passed).
  var KEYED = "selectKeyed";

  function commitSelect(select) {
    var form = select.closest("form");
    if (!form || select.hasAttribute("data-cancelled")) return;
    if (select.value === select.getAttribute("data-initial")) return;
    // Declining or archiving needs a reason: let the person type it first.
    if (select.name === "value" && (select.value === "declined" || select.value === "archived")) {
      var reason = form.querySelector('[name="status_reason"]');
      if (reason && !reason.value) { reason.focus(); return; }
    }
    select.setAttribute("data-initial", select.value);
    form.requestSubmit();
  }

  // The value the editor opened with; the templates write it (data-initial),
  // so a key pressed before htmx:load cannot become the "initial" value.
  function rememberInitial(root) {
    Array.prototype.forEach.call(root.querySelectorAll("select[data-submit-on-change]"), function (select) {
      if (!select.hasAttribute("data-initial")) select.setAttribute("data-initial", select.value);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { rememberInitial(document); });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt && event.detail.elt.querySelectorAll) rememberInitial(event.detail.elt.parentNode || event.detail.elt);
  });

  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-submit-on-change]")) return;
    if (event.key === "Enter") {
      event.preventDefault();
      commitSelect(select);
    } else if (event.key === "Escape") {
      select.setAttribute("data-cancelled", "");  // the editor is being cancelled: never save
    } else if (event.key !== "Tab") {
      // The "change" a key causes fires during this keydown's default action.
      select.dataset[KEYED] = "1";
      window.setTimeout(function () { delete select.dataset[KEYED]; }, 0);
    }
  }, true);
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-submit-on-change]")) return;
    if (select.dataset[KEYED]) return; // browsing with the keyboard: Enter or leaving saves
    commitSelect(select);
  });
  document.addEventListener("focusout", function (event) {
    var form = event.target.closest && event.target.closest("form");
    var select = form && form.querySelector("select[data-submit-on-change]");
    if (!select) return;
    // Moving to the reason box or the Save/Cancel buttons is still editing.
    if (event.relatedTarget && form.contains(event.relatedTarget)) return;
    if (select.isConnected) commitSelect(select);
  });

  // Single-key shortcuts (WCAG 2.1.4): on unless the person turned them off,
  // for every page at once (the triage inbox's toggle and the "?" list's
  // checkbox set the same choice, remembered in this browser).
  var SINGLE_KEYS = "pmhub:feedback-shortcuts";
  window.pmhubSingleKeys = function () {
    try { return window.localStorage.getItem(SINGLE_KEYS) !== "off"; } catch (e) { return true; }
  };
  function syncSingleKeys() {
    document.querySelectorAll("[data-single-keys]").forEach(function (box) { box.checked = window.pmhubSingleKeys(); });
  }
  document.addEventListener("DOMContentLoaded", syncSingleKeys);
  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-single-keys]")) return;
    try {
      if (event.target.checked) window.localStorage.removeItem(SINGLE_KEYS);
      else window.localStorage.setItem(SINGLE_KEYS, "off");
    } catch (e) { /* storage blocked: the choice lasts for this page */ }
    syncSingleKeys();
    announce("Single-key shortcuts " + (event.target.checked ? "on." : "off."), false);
  });

  // One-time secrets (new token, invite link): select all on focus for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
