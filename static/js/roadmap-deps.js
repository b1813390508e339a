// Draw dependencies on a timeline: an arrow from the end of each blocker's
// bar to the start of the bar it blocks (bars name their blockers in
// data-after). Amber when the blocked bar carries a warning. No inline
// script or style attribute: the CSP allows neither; the SVG is built here.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function draw() {
    document.querySelectorAll(".tl").forEach(function (tl) {
      var old = tl.querySelector("svg.tl-deps");
      if (old) old.remove();
      var bars = tl.querySelectorAll(".tl-bar[data-after]");
      if (!bars.length) return;
      var box = tl.getBoundingClientRect();
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("class", "tl-deps");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("width", tl.scrollWidth);
      svg.setAttribute("height", tl.scrollHeight);
      var defs = document.createElementNS(NS, "defs");
      ["dep", "dep-warn"].forEach(function (name) {
        var marker = document.createElementNS(NS, "marker");
        marker.setAttribute("id", "arrow-" + name);
        marker.setAttribute("viewBox", "0 0 10 10");
        marker.setAttribute("refX", "9");
        marker.setAttribute("refY", "5");
        marker.setAttribute("markerWidth", "7");
        marker.setAttribute("markerHeight", "7");
        marker.setAttribute("orient", "auto-start-reverse");
        var tip = document.createElementNS(NS, "path");
        tip.setAttribute("d", "M 0 0 L 10 5 L 0 10 z");
        tip.setAttribute("class", "tl-dep-tip " + name);
        marker.appendChild(tip);
        defs.appendChild(marker);
      });
      svg.appendChild(defs);
      bars.forEach(function (bar) {
        var to = bar.getBoundingClientRect();
        var warn = bar.classList.contains("has-warning");
        bar.dataset.after.split(" ").forEach(function (id) {
          var blocker = document.getElementById("entry-" + id);
          if (!blocker || !tl.contains(blocker)) return;
          var from = blocker.getBoundingClientRect();
          var x1 = from.right - box.left + tl.scrollLeft, y1 = from.top + from.height / 2 - box.top + tl.scrollTop;
          var x2 = to.left - box.left + tl.scrollLeft, y2 = to.top + Math.min(14, to.height / 2) - box.top + tl.scrollTop;
          var bend = Math.max(24, Math.abs(x2 - x1) / 2);
          var path = document.createElementNS(NS, "path");
          path.setAttribute("d", "M " + x1 + " " + y1 + " C " + (x1 + bend) + " " + y1 + ", " + (x2 - bend) + " " + y2 + ", " + x2 + " " + y2);
          path.setAttribute("class", "tl-dep" + (warn ? " is-warning" : ""));
          path.setAttribute("marker-end", "url(#arrow-" + (warn ? "dep-warn" : "dep") + ")");
          svg.appendChild(path);
        });
      });
      tl.appendChild(svg);
    });
  }

  var pending = null;
  function soon() { clearTimeout(pending); pending = setTimeout(draw, 60); }
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", soon);
  // Printing lays the page out again (narrower, other fonts): redraw when the
  // print layout applies and again when it ends, not with the screen's boxes.
  window.addEventListener("beforeprint", draw);
  window.addEventListener("afterprint", draw);
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) print.addEventListener("change", draw);
  }
  // The editor replaces the board (a child of <main>) after a move: redraw
  // then. Only direct children are watched, so drawing triggers nothing.
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    if (main) new MutationObserver(soon).observe(main, {childList: true});
  });
})();
