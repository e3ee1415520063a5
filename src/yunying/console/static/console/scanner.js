/* Attendance scanner: reads the member's QR code with the laptop camera and submits its content
 * through the page's check-in form (the same form staff type into), so both paths are one request.
 *
 *   <div data-scanner data-scanner-form="form-id" data-msg-…="…">
 *     <video></video> <canvas></canvas> <p data-scanner-status></p>
 *     <button data-scanner-start></button> <button data-scanner-stop></button>
 *   </div>
 *
 * Frames of the <video> are drawn onto the <canvas> and decoded by jsQR (vendor/jsqr, loaded before
 * this file). The same code is not sent again for REPEAT_MS, so a ticket held in front of the camera
 * checks in once. No inline script: the CSP forbids it; messages come from data-msg-* attributes.
 */
(function () {
  "use strict";

  const REPEAT_MS = 4000;
  const SCAN_EVERY_MS = 150;

  function setUp(root) {
    if (root.dataset.scannerAttached) return;
    root.dataset.scannerAttached = "1";
    const video = root.querySelector("video");
    const canvas = root.querySelector("canvas");
    const status = root.querySelector("[data-scanner-status]");
    const start = root.querySelector("[data-scanner-start]");
    const stop = root.querySelector("[data-scanner-stop]");
    const form = document.getElementById(root.dataset.scannerForm);
    if (!video || !canvas || !form || !start) return;
    const input = form.querySelector('input[name="code"]');
    const context = canvas.getContext("2d", { willReadFrequently: true });
    let stream = null;
    let lastCode = "";
    let lastAt = 0;
    let lastScan = 0;

    function say(key) {
      const text = root.dataset[key];
      if (text && status) status.textContent = text;
    }

    function submit(code) {
      input.value = code;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }

    function tick(now) {
      if (!stream) return;
      if (now - lastScan >= SCAN_EVERY_MS && video.readyState === video.HAVE_ENOUGH_DATA) {
        lastScan = now;
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        if (found && found.data) {
          const code = found.data.trim();
          if (code && (code !== lastCode || now - lastAt > REPEAT_MS)) {
            lastCode = code;
            lastAt = now;
            submit(code);
          }
        }
      }
      window.requestAnimationFrame(tick);
    }

    function halt() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.srcObject = null;
      video.classList.add("d-none");
      start.classList.remove("d-none");
      if (stop) stop.classList.add("d-none");
      say("msgStopped");
    }

    start.addEventListener("click", function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
        say("msgUnavailable");
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          video.classList.remove("d-none");
          start.classList.add("d-none");
          if (stop) stop.classList.remove("d-none");
          say("msgScanning");
          return video.play();
        })
        .then(function () { window.requestAnimationFrame(tick); })
        .catch(function () { halt(); say("msgDenied"); });
    });
    if (stop) stop.addEventListener("click", halt);
    window.addEventListener("pagehide", halt);

    // After each answer the typed field is empty and focused again, ready for the next member.
    form.addEventListener("htmx:afterRequest", function () {
      input.value = "";
      input.focus();
    });
  }

  function attach(scope) {
    scope.querySelectorAll("[data-scanner]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { attach(document); });
})();
