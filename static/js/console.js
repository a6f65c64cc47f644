// Small progressive enhancements; every page works without this file.
(function () {
  // Copy buttons: <button class="copy" data-copy="text">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    event.preventDefault();
    navigator.clipboard && navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      var old = button.textContent; button.textContent = "copied"; setTimeout(function () { button.textContent = old; }, 1200);
    });
  });
  // Confirm prompts for forms marked data-confirm (the server still requires confirm=yes).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) event.preventDefault();
  }, true);
  // Auto-refresh polls (hx-trigger="every Ns"): htmx fires them with no triggering event.
  // - they say so (X-Console-Poll), so the server does not count them as activity (idle sign-out);
  // - they wait while the tab is hidden, or while the polled element has an open <details> or a request
  //   in flight (a popover being filled in), so a refresh never replaces what someone is doing.
  //   This replaces hx-trigger filters ([...]), which need eval: the Content-Security-Policy forbids it.
  function isPoll(detail) { return !detail.triggeringEvent; }
  document.addEventListener("htmx:confirm", function (event) {
    if (!isPoll(event.detail)) return;
    var elt = event.detail.elt;
    if (document.visibilityState === "hidden" || elt.querySelector("details[open], .htmx-request")) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (isPoll(event.detail)) event.detail.headers["X-Console-Poll"] = "1";
  });
})();
