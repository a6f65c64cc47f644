// Live approval countdowns: every second, re-colour and re-label each `.deadline[data-deadline]`
// (the server renders the same states; the inbox table is also re-fetched every few seconds).
(function () {
  // The whole seconds left, rounded up, written as core.formatting.duration_text writes them (the server's
  // label for the same moment): "42 s", "3 m 12 s", "3 m", "2 h 59 m", "2 h", "2 d 4 h", "2 d".
  function label(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60); s = s % 60;
    if (m < 60) return s ? m + " m " + s + " s" : m + " m";
    var h = Math.floor(m / 60); m = m % 60;
    if (h < 24) return m ? h + " h " + m + " m" : h + " h";
    var d = Math.floor(h / 24); h = h % 24;
    return h ? d + " d " + h + " h" : d + " d";
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
