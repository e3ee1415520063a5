/* Member pages' behaviour, attached by data attributes (strict CSP: no inline script). */
(function () {
  "use strict";

  // Countdown to opening, in server time: the page carries the server's now and the opening instant
  // (epoch ms); the offset between the server's clock and this phone's is taken once, at load, so a
  // phone whose clock is wrong still counts down to the server's opening.
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function startCountdown(box) {
    var serverNow = Number(box.dataset.serverNow);
    var target = Number(box.dataset.target);
    var text = box.querySelector("[data-countdown-text]");
    if (!serverNow || !target || !text) { return; }
    var offset = serverNow - Date.now();
    var days = box.dataset.labelDays || "d";
    function tick() {
      var left = target - (Date.now() + offset);
      if (left <= 0) {
        text.textContent = "00:00:00";
        clearInterval(timer);
        if (box.dataset.reload === "1") { window.location.reload(); }
        return;
      }
      var s = Math.floor(left / 1000);
      var d = Math.floor(s / 86400);
      var clock = pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
      text.textContent = (d > 0 ? d + " " + days + " " : "") + clock;
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  // Form-fill time: from the form's display to its submission, sent as a client signal.
  function startFillTimer(form) {
    var started = Date.now();
    form.addEventListener("submit", function () {
      var field = form.querySelector("input[name=form_fill_ms]");
      if (field) { field.value = String(Math.max(0, Date.now() - started)); }
    });
  }

  // Copy buttons (the invite link): data-copy names the field, data-done the word after copying.
  function startCopy(button) {
    button.addEventListener("click", function () {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) { return; }
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value).catch(function () {}); }
      button.textContent = button.getAttribute("data-done");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(startCopy);
    document.querySelectorAll("[data-countdown]").forEach(startCountdown);
    document.querySelectorAll("form[data-fill-timer]").forEach(startFillTimer);
  });
})();
