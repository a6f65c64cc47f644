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


// Approve / Reject boxes: one open at a time (also `name="decide"` on the <details>), Escape closes it and gives
// the focus back to its button, Ctrl+Enter (or Cmd+Enter) in its text box confirms.
(function () {
  function openBoxes() { return document.querySelectorAll("details.decide[open]"); }
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLDetailsElement) || !box.classList.contains("decide") || !box.open) return;
    openBoxes().forEach(function (other) { if (other !== box) other.open = false; });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = openBoxes();
      if (!open.length) return;
      open.forEach(function (box) { box.open = false; });
      var summary = open[0].querySelector("summary");
      if (summary) summary.focus();
      event.preventDefault();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = event.target.closest && event.target.closest("details.decide form");
      if (form) { event.preventDefault(); form.requestSubmit(); }
    }
  });
})();

// Inbox keyboard shortcuts: j/k select, a approve, r reject, x tick for bulk, o open, ? lists them. They never fire
// while typing in a field. The selection survives the table's refreshes (kept by order id).
(function () {
  var selectedId = null;
  function table() { return document.getElementById("inbox-table"); }
  function rows() {
    var t = table();
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr.inbox-row, tbody tr.outcome-row")) : [];
  }
  function current() { return selectedId ? document.getElementById(selectedId) : null; }
  function select(row, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); });
    if (!row) { selectedId = null; return; }
    selectedId = row.id;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    if (focus !== false) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(current());
    index = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, index + step));
    select(list[index]);
  }
  function openBox(kind) {
    var row = current();
    var box = row && row.querySelector("details.decide." + kind + "-popover");
    if (!box) return;
    box.open = true;
    var field = box.querySelector("textarea");
    if (field) field.focus();
  }
  function typing(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable || !!target.closest("input, textarea, select, [contenteditable], dialog[open]");
  }
  function showHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }
  document.addEventListener("keydown", function (event) {
    if (!table() || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var row;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": openBox("approve"); break;
      case "r": openBox("reject"); break;
      case "o":
        row = current();
        if (row && row.getAttribute("data-path")) window.location.assign(row.getAttribute("data-path"));
        break;
      case "x":
        row = current();
        var box = row && row.querySelector("td.pick input[type=checkbox]");
        if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      case "?": showHelp(); break;
      default: return;
    }
    event.preventDefault();
  });
  // a click on a row selects it too (so j/k continue from there)
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#inbox-table tr.inbox-row");
    if (row) select(row, false);
  });
  document.addEventListener("DOMContentLoaded", function () {
    // on a phone the inbox's filters fold away (unless some are on) so the orders come first
    if (window.matchMedia("(max-width: 700px)").matches) {
      document.querySelectorAll("details[data-closed-when-narrow]:not([data-active])").forEach(function (panel) {
        panel.open = false;
      });
    }
    document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", showHelp);
    });
  });
  // after a refresh or a decision swapped rows: the same order stays selected, and keeps the focus it had
  document.addEventListener("htmx:afterSettle", function () {
    if (!selectedId) return;
    var row = current();
    if (!row) { selectedId = null; return; }
    var hadFocus = document.activeElement === document.body || document.activeElement === null;
    select(row, hadFocus);
  });

  // Bulk approval: say how many rows are ticked; a refresh waits while some are (it would untick them).
  function updateCount() {
    var label = document.querySelector("[data-selected-count]");
    if (!label) return;
    var count = document.querySelectorAll("#inbox-table td.pick input:checked").length;
    if (!label.hasAttribute("data-hint")) label.setAttribute("data-hint", label.textContent);
    label.textContent = count ? count + " selected" : label.getAttribute("data-hint");
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#inbox-table td.pick input")) updateCount();
  });
  document.addEventListener("htmx:afterSettle", updateCount);
  document.addEventListener("htmx:confirm", function (event) {
    if (event.detail.triggeringEvent) return;  // only the timed refresh waits
    var elt = event.detail.elt;
    if (elt.id === "inbox-table" && elt.querySelector("td.pick input:checked")) event.preventDefault();
  });
})();
