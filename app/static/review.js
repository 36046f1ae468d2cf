// Optional: keeps the rubric's total up to date as levels are chosen (the "Add up" button
// does the same on the server where scripts do not run), and puts a comment from the bank into
// the feedback at the cursor (without scripts the button asks the server to add it at the end).
(function () {
  "use strict";
  var form = document.querySelector("form[data-rubric]");
  if (!form) { return; }
  var box = form.querySelector("[data-rubric-total]");
  var output = form.querySelector("[data-total]");
  var locale = document.documentElement.lang || undefined;
  function update() {
    var total = 0;
    form.querySelectorAll("input[data-points]:checked").forEach(function (input) {
      total += parseFloat(input.getAttribute("data-points")) || 0;
    });
    output.textContent = total.toLocaleString(locale);
  }
  if (box && output) {
    box.classList.add("live");
    form.addEventListener("change", update);
    update();
  }
  var feedback = form.querySelector("textarea[name=feedback]");
  if (!feedback) { return; }
  document.querySelectorAll("button[data-insert-comment]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var source = document.getElementById(button.getAttribute("data-insert-comment"));
      if (!source) { return; }
      event.preventDefault();
      var text = source.textContent;
      var start = feedback.selectionStart, end = feedback.selectionEnd;
      if (typeof start !== "number") { start = end = feedback.value.length; }
      var before = feedback.value.slice(0, start);
      if (before && !/\s$/.test(before)) { text = " " + text; }
      feedback.value = before + text + feedback.value.slice(end);
      feedback.focus();
      feedback.setSelectionRange(start + text.length, start + text.length);
      feedback.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
}());
