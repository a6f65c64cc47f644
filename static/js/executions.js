// Timeline enhancements (the chart is complete without this file): details on click,
// collapse/expand of groups, zoom. Plus "select all" checkboxes.
(function () {
  document.documentElement.classList.add("js");

  function rows(tl) { return Array.prototype.slice.call(tl.querySelectorAll(".tl-body .tl-row[data-key]")); }

  function descendants(tl, key) {
    var out = [], keys = {}; keys[key] = true;
    rows(tl).forEach(function (row) {
      if (keys[row.getAttribute("data-parent")]) { out.push(row); keys[row.getAttribute("data-key")] = true; }
    });
    return out;
  }

  function setCollapsed(tl, row, collapsed) {
    var button = row.querySelector(".tl-toggle");
    if (button) button.setAttribute("aria-expanded", collapsed ? "false" : "true");
    row.classList.toggle("is-collapsed", collapsed);
    refresh(tl);
  }

  function refresh(tl) {
    // A row is hidden when any ancestor is collapsed.
    var hidden = {};
    rows(tl).forEach(function (row) {
      var parent = row.getAttribute("data-parent");
      var hide = parent && (hidden[parent] === "self" || hidden[parent] === "under");
      row.classList.toggle("collapsed-out", !!hide);
      var key = row.getAttribute("data-key");
      if (hide) hidden[key] = "under"; else if (row.classList.contains("is-collapsed")) hidden[key] = "self";
    });
  }

  function showDetails(tl, row) {
    var panel = tl.querySelector(".tl-panel"), detail = row.querySelector(".tl-detail");
    if (!panel || !detail) return;
    rows(tl).forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    panel.querySelector(".tl-panel-body").innerHTML = detail.innerHTML;
    panel.hidden = false;
  }

  document.querySelectorAll("[data-timeline]").forEach(function (tl) {
    var inner = tl.querySelector(".tl-inner"), zoom = 1;
    // Big map/parallel groups start collapsed so 1,000 operations stay readable.
    rows(tl).forEach(function (row) {
      if (parseInt(row.getAttribute("data-children") || "0", 10) > 25) row.classList.add("is-collapsed");
      var b = row.querySelector(".tl-toggle");
      if (b && row.classList.contains("is-collapsed")) b.setAttribute("aria-expanded", "false");
    });
    refresh(tl);

    tl.addEventListener("click", function (event) {
      var toggle = event.target.closest(".tl-toggle");
      var row = event.target.closest(".tl-body .tl-row[data-key]");
      if (toggle && row) { setCollapsed(tl, row, !row.classList.contains("is-collapsed")); return; }
      if (event.target.closest(".tl-close")) { tl.querySelector(".tl-panel").hidden = true; return; }
      if (row) showDetails(tl, row);
    });
    tl.addEventListener("keydown", function (event) {
      var row = event.target.closest(".tl-row[data-key]");
      if (row && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); showDetails(tl, row); }
      if (event.key === "Escape") tl.querySelector(".tl-panel").hidden = true;
    });

    var card = tl.closest("section") || document;
    card.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-zoom");
        zoom = how === "in" ? Math.min(zoom * 2, 64) : how === "out" ? Math.max(zoom / 2, 1) : 1;
        inner.style.setProperty("--zoom", zoom);
        card.querySelector("[data-zoom=reset]").textContent = Math.round(zoom * 100) + " %";
      });
    });
    var all = card.querySelector("[data-collapse-all]");
    if (all) all.addEventListener("click", function () {
      var collapse = all.textContent.indexOf("Collapse") === 0;
      rows(tl).forEach(function (row) {
        if (row.hasAttribute("data-children")) {
          row.classList.toggle("is-collapsed", collapse);
          row.querySelector(".tl-toggle").setAttribute("aria-expanded", collapse ? "false" : "true");
        }
      });
      refresh(tl);
      all.textContent = collapse ? "Expand groups" : "Collapse groups";
    });
  });

  // The list's auto-refresh waits while executions are selected for a bulk pause or resume (console.js
  // already holds polls while the tab is hidden; hx-trigger filters need eval, which the CSP forbids).
  document.addEventListener("htmx:confirm", function (event) {
    if (event.detail.triggeringEvent) return;
    var elt = event.detail.elt;
    if (elt && elt.id === "exec-table" && elt.querySelector('input[name="targets"]:checked')) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    // Filters that apply on change (no inline handlers: the Content-Security-Policy allows no inline script).
    if (target.hasAttribute("data-autosubmit") && target.form) {
      if (target.form.requestSubmit) target.form.requestSubmit(); else target.form.submit();
      return;
    }
    var name = target.getAttribute("data-check-all");
    if (!name || !target.form) return;
    // form.elements also holds the boxes tied to the form by their form= attribute (the list's bulk bar).
    Array.prototype.forEach.call(target.form.elements, function (box) {
      if (box.name === name && box.type === "checkbox" && !box.disabled) box.checked = target.checked;
    });
  });
})();
