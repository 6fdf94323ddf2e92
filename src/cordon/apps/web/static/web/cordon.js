// Cordon's few behaviours shared by every page (loaded with defer from base.html):
// - the menu button of narrow screens (a real button with aria-expanded; Escape closes the menu);
// - disclosure buttons of the jurisdiction tree (aria-expanded, the children list shown or hidden);
// - responsive tables: each cell gets its column's header as data-label, shown before it on a phone.
(function () {
  "use strict";

  function setupMenu() {
    var button = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (!button || !nav) { return; }
    function show(open) {
      nav.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () { show(!nav.classList.contains("open")); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && nav.classList.contains("open")) { show(false); button.focus(); }
    });
  }

  function toggleTree(e) {
    var button = e.target.closest(".tree-toggle");
    if (!button) { return; }
    var list = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (list) { list.hidden = !open; }
  }

  function labelCells(root) {
    var tables = (root || document).querySelectorAll("table.responsive");
    Array.prototype.forEach.call(tables, function (table) {
      var heads = table.querySelectorAll("thead tr:first-child th");
      if (!heads.length) { return; }
      var labels = [];
      Array.prototype.forEach.call(heads, function (th) {
        var span = parseInt(th.getAttribute("colspan") || "1", 10);
        for (var i = 0; i < span; i++) { labels.push(th.textContent.trim()); }
      });
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[col] && !cell.hasAttribute("colspan")) {
            cell.setAttribute("data-label", labels[col]);
          }
          col += parseInt(cell.getAttribute("colspan") || "1", 10);
        });
      });
    });
  }

  function start() {
    setupMenu();
    labelCells(document);
    document.addEventListener("click", toggleTree);
    document.body.addEventListener("htmx:afterSwap", function () { labelCells(document); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
