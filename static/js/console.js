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
})();
