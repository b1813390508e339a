// PMHub page behaviour. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  // Escape cancels an inline edit: it follows the form's Cancel link
  // (which htmx turns into a swap back to the saved version).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form[data-inline]");
    if (!form) return;
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

  // After htmx swaps in a form, put the cursor in its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var form = target && (target.matches("form[data-inline]") ? target : target.querySelector("form[data-inline]"));
    if (!form) return;
    var field = form.querySelector(".has-error input, .has-error textarea, .has-error select")
      || form.querySelector("input:not([type=hidden]), textarea, select");
    if (field) field.focus();
  });

  // One-time secrets (new token, invite link): select all on focus for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
