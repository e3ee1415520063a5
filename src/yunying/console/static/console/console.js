/* Console behaviours, attached by data attributes (no inline script: the CSP forbids it).
 *
 *   <form data-confirm="Publish?">            asks before submitting
 *   <select data-autosubmit>                   submits its form on change
 *   <input type="checkbox" data-check-all="x"> ticks every checkbox named x in its form
 *   <div data-chart="json-id" class="chart">   an ECharts chart; its option is the JSON in #json-id
 *                                              (rendered with Django's json_script)
 *   <div data-show-if="kind=a,b">              shown only while its form's field `kind` is a or b
 *   <button data-add-row="#table .spare">      shows the first hidden row matching the selector
 *   <button data-clear-row>                    empties the inputs of its table row (and says so: change)
 * Everything re-attaches after an htmx swap, so live-refreshing fragments keep working.
 */
(function () {
  "use strict";

  const charts = new Map();

  function drawCharts(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      const source = document.getElementById(el.dataset.chart);
      if (!source) return;
      const option = JSON.parse(source.textContent);
      let chart = window.echarts.getInstanceByDom(el);
      if (!chart) {
        chart = window.echarts.init(el, null, { renderer: "svg" });
        charts.set(el, chart);
      }
      chart.setOption(option, true);
    });
  }

  function attach(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.confirmAttached) return;
      form.dataset.confirmAttached = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
      });
    });
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      if (el.dataset.autosubmitAttached) return;
      el.dataset.autosubmitAttached = "1";
      el.addEventListener("change", function () {
        if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
      });
    });
    root.querySelectorAll("input[data-check-all]").forEach(function (box) {
      if (box.dataset.checkAllAttached) return;
      box.dataset.checkAllAttached = "1";
      box.addEventListener("change", function () {
        const scope = box.form || document;
        scope.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
          other.checked = box.checked;
        });
      });
    });
    root.querySelectorAll("form").forEach(function (form) {
      if (form.dataset.showIfAttached || !form.querySelector("[data-show-if]")) return;
      form.dataset.showIfAttached = "1";
      const update = function () { showIf(form); };
      form.addEventListener("change", update);
      update();
    });
    root.querySelectorAll("button[data-add-row]").forEach(function (button) {
      if (button.dataset.addRowAttached) return;
      button.dataset.addRowAttached = "1";
      button.addEventListener("click", function () {
        const row = document.querySelector(button.dataset.addRow);
        if (row) row.classList.remove(button.dataset.addRow.split(".").pop());
        if (!document.querySelector(button.dataset.addRow)) button.hidden = true;
      });
    });
    root.querySelectorAll("button[data-clear-row]").forEach(function (button) {
      if (button.dataset.clearRowAttached) return;
      button.dataset.clearRowAttached = "1";
      button.addEventListener("click", function () {
        const row = button.closest("tr");
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
        const first = row.querySelector("input");
        if (first) first.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    drawCharts(root);
  }

  function showIf(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      const parts = el.dataset.showIf.split("=");
      const field = form.elements.namedItem(parts[0]);
      const value = field ? field.value : "";
      el.hidden = parts[1].split(",").indexOf(value) < 0;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { attach(document); });
  document.addEventListener("htmx:afterSettle", function (event) { attach(event.target); });
  // A chart whose element was swapped out is disposed, so refreshing pages do not leak.
  document.addEventListener("htmx:beforeSwap", function () {
    charts.forEach(function (chart, el) {
      if (!document.body.contains(el)) { chart.dispose(); charts.delete(el); }
    });
  });
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  window.yunyingConsole = { attach: attach, drawCharts: drawCharts };
})();
