// Small progressive enhancements; every page works without this file.
(function () {
  var LIVE_KEY = "console.live";

  // --- Copy buttons: any element with data-copy="text" (ids, ARNs) --------------------------------------------
  // The button keeps its size and accessible name; "copied" is shown and announced, then the label comes back.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy");
    var done = function () {
      var old = button.textContent;
      button.classList.add("copied");
      if (!button.children.length) button.textContent = "copied";
      announce("Copied " + (text.length > 40 ? text.slice(0, 40) + "…" : text));
      setTimeout(function () { button.classList.remove("copied"); if (!button.children.length) button.textContent = old; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text) && done(); });
    } else if (fallbackCopy(text)) {
      done();
    }
  });
  function fallbackCopy(text) {  // plain-HTTP origins have no navigator.clipboard
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.className = "visually-hidden";
    document.body.appendChild(area); area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  // Confirm prompts for forms marked data-confirm (the server still requires confirm=yes).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) event.preventDefault();
  }, true);

  // --- "/" focuses the search box in the top bar (not while typing somewhere) -----------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (target.closest("input, textarea, select, [contenteditable=true]")) return;
    var box = document.querySelector("[data-search-shortcut]");
    if (!box) return;
    event.preventDefault();
    var menu = box.closest("details");
    if (menu) menu.open = true;
    box.focus();
    box.select();
  });

  // --- Live region: polite announcements ("2 new orders") ------------------------------------------------------
  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (!region || !text) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }
  window.consoleAnnounce = announce;

  // --- Auto-refresh polls (hx-trigger="every Ns"): htmx fires them with no triggering event. ------------------
  // - they say so (X-Console-Poll), so the server does not count them as activity (idle sign-out);
  // - they wait while the tab is hidden, while the page is paused (the Live / Paused toggle), or while the polled
  //   element has an open <details> or a request in flight (a popover being filled in), so a refresh never
  //   replaces what someone is doing. This replaces hx-trigger filters ([...]), which need eval: the policy forbids it;
  // - their swaps morph (idiomorph) instead of replacing: the focused button, scroll position, open popovers and
  //   typed text stay where they were.
  function isPoll(detail) { return !detail.triggeringEvent; }
  function isLive() {
    try { return window.localStorage.getItem(LIVE_KEY) !== "paused"; } catch (e) { return true; }
  }
  function isBadge(elt) { return elt && elt.id === "pending-badge"; }
  document.addEventListener("htmx:confirm", function (event) {
    if (!isPoll(event.detail)) return;
    var elt = event.detail.elt;
    if (document.visibilityState === "hidden" || elt.querySelector("details[open], .htmx-request") ||
        (!isLive() && !isBadge(elt) && (elt.getAttribute("hx-trigger") || "").indexOf("every") >= 0)) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (isPoll(event.detail)) event.detail.headers["X-Console-Poll"] = "1";
  });

  function rowKeys(region) {
    var keys = {};
    region.querySelectorAll("tbody > tr[id], [data-live-item][id]").forEach(function (row) { keys[row.id] = true; });
    return keys;
  }
  function noun(id, count) {
    var m = /^([a-z]+)-/.exec(id || "");
    var word = m ? m[1] : "row";
    if (word === "exec") word = "execution";
    return count === 1 ? word : word + "s";
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var elt = detail.elt;
    if (!detail.requestConfig || detail.requestConfig.triggeringEvent || !detail.shouldSwap) return;
    if (!window.Idiomorph) return;
    var swap = (elt.getAttribute("hx-swap") || "innerHTML").trim();
    if (swap === "outerHTML") detail.swapOverride = "morph:outerHTML";
    else if (swap === "innerHTML") detail.swapOverride = "morph:innerHTML";
    if (!isBadge(elt)) elt._consoleKeys = rowKeys(elt);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    mirrorBadge();
    if (!elt || !elt._consoleKeys) return;
    var before = elt._consoleKeys; elt._consoleKeys = null;
    var region = document.getElementById(elt.id) || elt;
    var after = rowKeys(region);
    var added = Object.keys(after).filter(function (k) { return !before[k]; });
    var gone = Object.keys(before).filter(function (k) { return !after[k]; });
    var parts = [];
    if (added.length) parts.push(added.length + " new " + noun(added[0], added.length));
    if (gone.length) parts.push(gone.length + " " + noun(gone[0], gone.length) + " gone");
    if (parts.length) announce(parts.join(", "));
  });
  if (window.Idiomorph && window.Idiomorph.defaults) {
    // Keep what the person changed: an open <details> the server renders closed, the value being typed.
    window.Idiomorph.defaults.ignoreActiveValue = true;
    window.Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node, kind) {
      return !(name === "open" && kind === "remove" && node.tagName === "DETAILS");
    };
  }

  // --- The Live / Paused toggle (shown on pages that refresh themselves; remembered in localStorage) ------------
  function liveToggleSetup() {
    var button = document.querySelector("[data-live-toggle]");
    if (!button) return;
    var regions = Array.prototype.filter.call(document.querySelectorAll("[hx-trigger*='every']"), function (elt) {
      return !isBadge(elt);
    });
    if (!regions.length) return;
    var render = function () {
      var live = isLive();
      button.setAttribute("aria-pressed", live ? "true" : "false");
      button.querySelector(".livetext").textContent = live ? "Live" : "Paused";
      button.title = live ? "This page refreshes itself; click to pause" : "Refresh is paused; click to resume";
      // Words on the page that say the list is live ("Live · updated …") follow the switch.
      Array.prototype.forEach.call(document.querySelectorAll("[data-live-word]"), function (word) {
        word.textContent = live ? "Live" : "Paused";
      });
    };
    button.hidden = false;
    render();
    button.addEventListener("click", function () {
      var live = !isLive();
      try { window.localStorage.setItem(LIVE_KEY, live ? "live" : "paused"); } catch (e) { /* private mode */ }
      render();
      announce(live ? "Live: this page refreshes itself" : "Paused: this page no longer refreshes");
    });
  }

  // --- The Menu button (narrow screens) shows the pending count too --------------------------------------------
  function mirrorBadge() {
    var mirror = document.querySelector("[data-badge-mirror]");
    var badge = document.getElementById("pending-badge");
    if (!mirror || !badge) return;
    mirror.textContent = badge.textContent.trim();
    mirror.className = badge.className + " menubadge";
  }
  // Escape closes the open menu.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.navmenu[open]");
    if (menu && getComputedStyle(menu.querySelector("summary")).display !== "none") {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // --- Regions that scroll sideways (wide tables on a phone, the timeline) take keyboard focus, so arrow keys
  // scroll them (WCAG 2.1.1).
  function scrollablesFocusable() {
    document.querySelectorAll(".tablewrap, .tl-scroll, [data-scroll-region]").forEach(function (el) {
      if (el.hasAttribute("tabindex")) return;
      if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== "visible") {
        el.tabIndex = 0;
        if (!el.getAttribute("aria-label") && !el.getAttribute("role")) {
          var heading = el.closest("section, .card");
          heading = heading && heading.querySelector("h2, h3");
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", (heading ? heading.textContent.trim().split("\n")[0] : "Table") + " (scrolls)");
        }
      }
    });
  }
  document.addEventListener("htmx:afterSettle", scrollablesFocusable);
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(scrollablesFocusable, 200); });

  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () { liveToggleSetup(); mirrorBadge(); scrollablesFocusable(); });
})();
