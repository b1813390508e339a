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

  // One-time secrets (new token, invite link): select all on focus for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // "Copy" buttons next to a one-time secret: data-copy="<id of the input>".
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
})();
