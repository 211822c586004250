// The applicant's pages: submit once (a double tap sends one request), and at a kiosk the idle timeout that
// signs out and clears the screen (the server ends an idle kiosk session by itself as well).
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      setTimeout(function () { form.dataset.sent = ""; }, 4000);
    });
  });
  if (!document.body.classList.contains("kiosk")) return;
  var seconds = parseInt(document.body.dataset.idleSeconds || "120", 10);
  var warnAt = Math.max(seconds - 20, Math.floor(seconds * 0.8));
  var last = Date.now();
  var warning = document.getElementById("idle-warning");
  function clearScreen() {
    document.querySelectorAll("main input, main textarea").forEach(function (el) { el.value = ""; });
    var signOut = document.getElementById("sign-out");
    if (signOut) {
      signOut.querySelector("input[name=idle]").value = "1";
      signOut.submit();
    } else {
      window.location.href = "/apply/kiosk/?idle=1";
    }
  }
  ["click", "keydown", "touchstart", "input", "scroll"].forEach(function (name) {
    document.addEventListener(name, function () { last = Date.now(); if (warning) warning.hidden = true; }, { passive: true });
  });
  var stay = document.getElementById("idle-stay");
  if (stay) stay.addEventListener("click", function () { last = Date.now(); warning.hidden = true; });
  setInterval(function () {
    var idle = (Date.now() - last) / 1000;
    if (warning && idle >= warnAt) warning.hidden = false;
    if (idle >= seconds) clearScreen();
  }, 500);
})();
