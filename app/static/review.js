// Optional: keeps the rubric's total up to date as levels are chosen (the "Add up" button
// does the same on the server where scripts do not run).
(function () {
  "use strict";
  var form = document.querySelector("form[data-rubric]");
  if (!form) { return; }
  var box = form.querySelector("[data-rubric-total]");
  var output = form.querySelector("[data-total]");
  if (!box || !output) { return; }
  var locale = document.documentElement.lang || undefined;
  function update() {
    var total = 0;
    form.querySelectorAll("input[data-points]:checked").forEach(function (input) {
      total += parseFloat(input.getAttribute("data-points")) || 0;
    });
    output.textContent = total.toLocaleString(locale);
  }
  box.classList.add("live");
  form.addEventListener("change", update);
  update();
}());
