// Sampling station: Enter in the tube field moves to the person field (a scanner ends each scan with Enter).
(function () {
  var tube = document.getElementById("tube");
  var person = document.getElementById("person");
  if (!tube || !person) return;
  tube.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && tube.value.trim() && !person.value.trim()) {
      e.preventDefault();
      if (tube.defaultValue.trim() !== tube.value.trim()) { tube.form.submit(); return; }
      person.focus();
    }
  });
  person.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !person.value.trim()) { e.preventDefault(); }
  });
})();
