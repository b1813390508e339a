// Charts (Chart.js from npm, served locally). Each <canvas data-chart="ID">
// reads its data from the <script type="application/json" id="ID"> that
// Django's json_script wrote: {labels, series: [{label, values, role}],
// markers: [{label, text, url}], unit}. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function css(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function palette() {
    return {
      accent: css("--accent", "#4f46e5"),
      muted: css("--muted", "#5d6478"),
      border: css("--border", "#dde1ec"),
      text: css("--text", "#1c2030"),
      ok: css("--ok", "#1f8a4c"),
      warn: css("--warn", "#a86400"),
      danger: css("--danger", "#c62f3a"),
    };
  }

  function styleFor(role, colors) {
    var base = { pointRadius: 0, pointHoverRadius: 3, borderWidth: 2, spanGaps: true, tension: 0.2 };
    var styles = {
      main: { borderColor: colors.accent, backgroundColor: colors.accent },
      target: { borderColor: colors.ok, borderDash: [6, 4], borderWidth: 1.5, tension: 0 },
      before: { borderColor: colors.muted, backgroundColor: colors.muted, borderWidth: 1.5 },
      after: { borderColor: colors.accent, backgroundColor: colors.accent },
      "mean-before": { borderColor: colors.muted, borderDash: [2, 3], borderWidth: 2, tension: 0 },
      "mean-after": { borderColor: colors.accent, borderDash: [2, 3], borderWidth: 2.5, tension: 0 },
      expected: { borderColor: colors.ok, borderDash: [8, 4], borderWidth: 2, tension: 0 },
      adoption: { borderColor: colors.warn, borderWidth: 1.5, yAxisID: "y2" },
    };
    var style = styles[role] || styles.main;
    var merged = {};
    Object.keys(base).forEach(function (k) { merged[k] = base[k]; });
    Object.keys(style).forEach(function (k) { merged[k] = style[k]; });
    return merged;
  }

  // Vertical dashed lines with a caption, for launches.
  var markerPlugin = {
    id: "pmhubMarkers",
    afterDatasetsDraw: function (chart, _args, options) {
      var markers = (options && options.markers) || [];
      if (!markers.length) return;
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      ctx.save();
      markers.forEach(function (marker, n) {
        var index = chart.data.labels.indexOf(marker.label);
        if (index < 0) return;
        var px = x.getPixelForValue(index);
        ctx.strokeStyle = options.color;
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = options.color;
        ctx.font = "11px system-ui, sans-serif";
        var text = "▲ " + marker.text;
        if (text.length > 34) text = text.slice(0, 33) + "…";
        var width = ctx.measureText(text).width;
        var tx = Math.min(Math.max(px + 4, area.left), area.right - width);
        ctx.fillText(text, tx, area.top + 12 + (n % 3) * 13);
      });
      ctx.restore();
    },
  };

  function format(value, unit) {
    if (value === null || value === undefined) return "—";
    var abs = Math.abs(value);
    var text = abs >= 1000 ? value.toLocaleString(undefined, { maximumFractionDigits: 0 })
      : value.toLocaleString(undefined, { maximumFractionDigits: abs >= 10 ? 1 : 2 });
    return unit ? text + " " + unit : text;
  }

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // "2026-03-01" → "Mar 1" (or "Mar 2026" for monthly charts).
  function shortDate(label, monthly) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(label);
    if (!m) return label;
    var month = MONTHS[parseInt(m[2], 10) - 1];
    return monthly ? month + " " + m[1] : month + " " + parseInt(m[3], 10);
  }

  function render(canvas) {
    if (canvas.dataset.ready || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    canvas.dataset.ready = "1";
    var data = JSON.parse(source.textContent);
    var colors = palette();
    var hasY2 = data.series.some(function (s) { return s.role === "adoption"; });
    var datasets = data.series.map(function (s) {
      var dataset = styleFor(s.role, colors);
      dataset.label = s.label;
      dataset.data = s.values;
      if (s.partial && s.partial.some(Boolean)) {
        // The period still running (its value is so far): dashed, hollow.
        dataset.segment = { borderDash: function (ctx) { return s.partial[ctx.p1DataIndex] ? [4, 4] : undefined; } };
        dataset.pointRadius = s.values.map(function (v, i) { return s.partial[i] ? 4 : 0; });
        dataset.pointBackgroundColor = "transparent";
        dataset.partial = s.partial;
      }
      return dataset;
    });
    var scales = {
      x: {
        ticks: {
          color: colors.muted, maxTicksLimit: 7, maxRotation: 0, autoSkipPadding: 12,
          callback: function (value) { return shortDate(this.getLabelForValue(value), data.period === "month"); },
        },
        grid: { display: false },
      },
      y: { ticks: { color: colors.muted, callback: function (v) { return format(v, ""); } },
           grid: { color: colors.border }, title: { display: !!data.unit, text: data.unit, color: colors.muted } },
    };
    if (hasY2) {
      scales.y2 = { position: "right", ticks: { color: colors.warn }, grid: { display: false } };
    }
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1, labels: { color: colors.text, boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var soFar = item.dataset.partial && item.dataset.partial[item.dataIndex] ? " (so far)" : "";
                return item.dataset.label + ": " + format(item.parsed.y, data.unit) + soFar;
              },
            },
          },
          pmhubMarkers: { markers: data.markers || [], color: colors.danger },
        },
      },
      plugins: [markerPlugin],
    });
    canvas.closest(".chart-box") && canvas.closest(".chart-box").classList.add("is-rendered");
  }

  function init(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(render);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });

})();
