// Bulk forms (a table of checkboxes and buttons that act on the ticked rows): each action button says how many
// records it will change ("Confirm selected (2)") and is disabled while nothing is ticked. Enter never submits
// such a form: here Enter in its fields is swallowed (Space ticks a box); without this script the browser submits
// by the form's first, hidden button ("implicit"), and the view changes nothing (core.pages.pressed_enter).
// Forms that arrive later (a live list swapped in by htmx) are bound when they arrive.
(function () {
  function bind(root) {
  var forms = Array.prototype.slice.call(root.querySelectorAll("form[data-bulk]"));
  if (root.matches && root.matches("form[data-bulk]")) forms.push(root);
  forms.forEach(function (form) {
    if (form.dataset.bulkBound) return;
    form.dataset.bulkBound = "1";
    var name = form.getAttribute("data-bulk");
    function count() {
      var n = form.querySelectorAll('input[name="' + name + '"]:checked').length;
      form.querySelectorAll("[data-bulk-count]").forEach(function (s) { s.textContent = String(n); });
      form.querySelectorAll("button[data-bulk-action]").forEach(function (b) { b.disabled = n === 0; });
    }
    form.addEventListener("change", count);
    form.addEventListener("click", function () { window.setTimeout(count, 0); });
    form.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key !== "Enter" || !t || t.tagName !== "INPUT") return;
      e.preventDefault();
    });
    count();
  });
  }
  bind(document);
  document.addEventListener("htmx:load", function (e) { bind(e.target); });
})();
