// Cordon's few behaviours shared by every page (loaded with defer from base.html):
// - the menu button of narrow screens (a real button with aria-expanded; Escape closes the menu);
// - disclosure buttons of the jurisdiction tree (aria-expanded, the children list shown or hidden);
// - responsive tables: each cell gets its column's header as data-label, shown before it on a phone;
// - a form sent back with errors: each field in error is marked aria-invalid and described by its message,
//   and the first one takes the focus, so a screen reader reads the field and what is wrong with it.
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

  function linkErrors() {
    var first = null;
    Array.prototype.forEach.call(document.querySelectorAll("form .has-error"), function (field, i) {
      var input = field.querySelector("input:not([type=hidden]), select, textarea");
      var messages = field.querySelectorAll(".error-message, .error");
      if (!input || !messages.length) { return; }
      var ids = [];
      Array.prototype.forEach.call(messages, function (m, j) {
        if (!m.id) { m.id = "field-error-" + i + "-" + j; }
        ids.push(m.id);
      });
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + ids.join(" "));
      input.setAttribute("aria-invalid", "true");
      if (!first) { first = input; }
    });
    if (first) { first.focus(); }
  }

  function start() {
    linkErrors();
    setupMenu();
    labelCells(document);
    document.addEventListener("click", toggleTree);
    document.body.addEventListener("htmx:afterSwap", function () { labelCells(document); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

// Live regions (core/live.py): a refresh that arrives after a box was ticked in the region, or whose answer is
// not the page (a sign-in page after the session ended), is not swapped in.
document.addEventListener("htmx:beforeSwap", function (e) {
  var el = e.detail.elt;
  if (!el || !el.hasAttribute || !el.hasAttribute("data-live")) return;
  var text = (e.detail.xhr && e.detail.xhr.responseText) || "";
  if (el.querySelector("input:checked") || text.indexOf('id="' + el.id + '"') === -1) {
    e.detail.shouldSwap = false;
  }
});
