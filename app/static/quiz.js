// Optional: saves quiz answers as the learner goes (the page works without it).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = form.querySelector("[data-save-status]");
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.set("action", "save");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (result) {
        if (result[0] === 200) {
          form.querySelector("input[name=sequence]").value = result[1].sequence;
          if (status) { status.textContent = status.getAttribute("data-saved") || "✓"; }
        }
      })
      .catch(function () { /* offline: the buttons still work */ });
  }
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(save, 800); });
  setInterval(save, 45000);
})();
