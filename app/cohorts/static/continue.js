// Optional: goes on with the next part of a large enrolment by itself (the button does the same).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autocontinue]");
  if (form) {
    window.setTimeout(function () { form.submit(); }, 500);
  }
})();
