// The undo toast (pmhub/undo.py): shown for its seconds, then removed. After
// an htmx action the server sends the offer in an "pmhub:undo" event and the
// toast is cloned from <template id="undo-toast-template">. Ctrl/⌘+Z (outside
// text fields) presses its Undo button. The toast sits in the #messages live
// region, so screen readers announce it.
(function () {
  "use strict";

  function arm(toast) {
    if (!toast || toast.dataset.armed) return;
    toast.dataset.armed = "1";
    var seconds = parseInt(toast.dataset.seconds || "10", 10);
    setTimeout(function () { toast.remove(); }, seconds * 1000);
  }

  function show(offer) {
    var template = document.getElementById("undo-toast-template");
    var region = document.getElementById("messages");
    if (!template || !region || !offer) return;
    document.querySelectorAll("[data-undo-toast]").forEach(function (old) { old.remove(); });
    var toast = template.content.firstElementChild.cloneNode(true);
    toast.dataset.seconds = offer.seconds || 10;
    toast.querySelector("[data-undo-message]").textContent = offer.message;
    var form = toast.querySelector("[data-undo-form]");
    form.action = offer.url;
    form.querySelector('[name="token"]').value = offer.token;
    form.querySelector('[name="next"]').value = window.location.pathname + window.location.search;
    var csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrfmiddlewaretoken";
    try { csrf.value = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { csrf.value = ""; }
    form.appendChild(csrf);
    region.appendChild(toast);
    arm(toast);
  }

  document.body.addEventListener("pmhub:undo", function (event) { show(event.detail); });
  document.querySelectorAll("[data-undo-toast]").forEach(arm);

  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    if (event.key !== "z" && event.key !== "Z") return;
    if (window.PMHub && window.PMHub.typing(event.target)) return;
    var button = document.querySelector("[data-undo-toast] button");
    if (!button) return;
    event.preventDefault();
    button.click();
  });
})();
