/* The breach runbook's clock (console/breach): each [data-due] shows the time left to its deadline,
 * or how long it is overdue, rendered by the server and kept current here every 20 seconds. The
 * words come translated from #breach-clock-words ("{t} left", "%(h)d h %(m)02d min", ...). No inline
 * script (the CSP forbids it); the print button of the report page is attached here too.
 */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/%\((\w+)\)(0?\d*)d/g, function (_m, name, width) {
      let text = String(values[name]);
      const pad = parseInt(width || "0", 10);
      while (text.length < pad) text = "0" + text;
      return text;
    });
  }

  function span(words, seconds) {
    seconds = Math.abs(seconds);
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    if (d) return fill(words.dh, { d: d, h: h });
    if (h) return fill(words.hm, { h: h, m: m });
    return fill(words.m, { m: m });
  }

  function tick() {
    const words = document.getElementById("breach-clock-words");
    if (!words) return;
    const now = Date.now();
    document.querySelectorAll(".breach-clock[data-due]").forEach(function (el) {
      const left = Math.floor((Date.parse(el.dataset.due) - now) / 1000);
      const text = span(words.dataset, left);
      if (left >= 0) {
        el.textContent = words.dataset.left.replace("{t}", text);
        el.classList.remove("text-danger");
      } else {
        el.textContent = words.dataset.overdue.replace("{t}", text);
        el.classList.add("text-danger");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 20000);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
