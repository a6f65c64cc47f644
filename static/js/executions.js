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
    // The row's details come from its operation's URL (a few rows' worth of HTML, not one per row up front).
    var panel = tl.querySelector(".tl-panel"), url = row.getAttribute("data-detail");
    if (!panel || !url) return;
    rows(tl).forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    htmx.ajax("GET", url, { target: panel.querySelector(".tl-panel-body"), swap: "innerHTML" }).then(function () {
      panel.hidden = false;
    });
  }

  function childrenOf(tl, key) {
    var found = null;
    tl.querySelectorAll(".tl-children").forEach(function (box) { if (box.getAttribute("data-group") === key) found = box; });
    return found;
  }

  function loadChildren(tl, key, url) {
    // A summarised group's children, a page at a time (failed and running first), into its container.
    var box = childrenOf(tl, key);
    if (!box) return;
    box.hidden = false;
    htmx.ajax("GET", url, { target: box, swap: "innerHTML" });
  }

  function listed(tl, key) {
    return Array.prototype.filter.call(tl.querySelectorAll(".tl-row.tl-listed"), function (r) {
      return r.getAttribute("data-parent") === key;
    });
  }

  function toggleLazy(tl, row) {
    var key = row.getAttribute("data-key"), box = childrenOf(tl, key), button = row.querySelector(".tl-toggle");
    if (!box) return;
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    // While the children are shown, the rows listed in the group's summary (failed and running first) are
    // among them: the listed copies step aside.
    listed(tl, key).forEach(function (r) { r.classList.toggle("listed-out", !open); });
    if (open) { box.hidden = true; return; }
    if (box.children.length) box.hidden = false; else loadChildren(tl, key, row.getAttribute("data-lazy") + "&page=1");
  }

  function initTimeline(tl) {
    if (tl.hasAttribute("data-ready")) return;
    tl.setAttribute("data-ready", "");
    var inner = tl.querySelector(".tl-inner"), zoom = 1;
    refresh(tl);

    tl.addEventListener("click", function (event) {
      var filter = event.target.closest("[data-children-filter]");
      if (filter) {
        event.preventDefault();
        var summary = filter.closest(".tl-row");
        loadChildren(tl, summary.getAttribute("data-parent"), filter.getAttribute("href"));
        return;
      }
      var more = event.target.closest("[data-children-more]");
      if (more) {
        event.preventDefault();
        htmx.ajax("GET", more.getAttribute("href"), { target: more.closest(".tl-row"), swap: "outerHTML" });
        return;
      }
      var toggle = event.target.closest(".tl-toggle");
      var row = event.target.closest(".tl-body .tl-row[data-key]");
      if (toggle && row && row.hasAttribute("data-lazy")) { toggleLazy(tl, row); return; }
      if (toggle && row) { setCollapsed(tl, row, !row.classList.contains("is-collapsed")); return; }
      if (event.target.closest(".tl-close")) { tl.querySelector(".tl-panel").hidden = true; return; }
      if (event.target.closest(".tl-panel")) return;
      if (row) { event.preventDefault(); showDetails(tl, row); }
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
        if (row.hasAttribute("data-children") && !row.hasAttribute("data-lazy")) {
          row.classList.toggle("is-collapsed", collapse);
          row.querySelector(".tl-toggle").setAttribute("aria-expanded", collapse ? "false" : "true");
        }
      });
      refresh(tl);
      all.textContent = collapse ? "Expand groups" : "Collapse groups";
    });
  }
  // On load, and again when a running execution's timeline is swapped for a newer one.
  htmx.onLoad(function (root) {
    if (root.matches && root.matches("[data-timeline]")) initTimeline(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-timeline]").forEach(initTimeline);
  });

  // A running execution's timeline re-fetches itself: not while someone is looking into it (a group opened, a
  // panel shown), and an unchanged answer (same ETag, a 304 revalidated by the browser) is not swapped in.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "timeline" || event.detail.triggeringEvent) return;
    var busy = elt.querySelector(".tl-children:not(:empty):not([hidden])") || elt.querySelector(".tl-panel:not([hidden])");
    if (busy) event.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "timeline") return;
    var etag = (event.detail.xhr.getResponseHeader("ETag") || "").replace(/^W\//, "").replace(/"/g, "");
    if (event.detail.xhr.status === 304 || (etag && etag === target.getAttribute("data-etag"))) event.detail.shouldSwap = false;
  });

  // A running execution's head, summary and Waiting on panel re-fetch themselves (data-keep-focus): not while the
  // keyboard is inside them or a details element there is open, so nobody loses their place.
  document.addEventListener("htmx:confirm", function (event) {
    if (event.detail.triggeringEvent) return;
    var elt = event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-keep-focus")) return;
    var active = document.activeElement;
    if ((active && active !== document.body && elt.contains(active)) || elt.querySelector("details[open]")) event.preventDefault();
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
