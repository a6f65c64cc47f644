// Live approval countdowns: every second, re-colour and re-label each `.deadline[data-deadline]`
// (the server renders the same states; the inbox table is also re-fetched every few seconds).
(function () {
  function label(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    var m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + two(m) + "m";
    if (m) return m + "m " + two(s) + "s";
    return s + "s";
  }
  function state(left, windowSeconds) {
    if (left <= 0) return "expired";
    if (!windowSeconds) return "ok";
    var fraction = left / windowSeconds;
    return fraction < 0.10 ? "red" : fraction < 0.25 ? "amber" : "ok";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".deadline[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(deadline)) return;
      var windowSeconds = parseFloat(el.getAttribute("data-window")) || 0;
      var left = (deadline - now) / 1000;
      var current = state(left, windowSeconds);
      el.textContent = current === "expired" ? "expired" : label(left);
      ["ok", "amber", "red", "expired"].forEach(function (name) { el.classList.toggle(name, name === current); });
      var bar = el.parentElement.querySelector(".bar");
      if (bar && windowSeconds) {
        bar.className = "bar " + current;
        bar.firstElementChild.style.width = Math.max(0, Math.min(100, Math.round(left / windowSeconds * 100))) + "%";
      }
      var row = el.closest("tr.inbox-row");
      if (row) row.className = row.className.replace(/deadline-\w+/, "deadline-" + current);
    });
  }
  setInterval(tick, 1000);
})();
