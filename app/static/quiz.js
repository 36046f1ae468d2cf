// Optional: saves quiz answers as the learner goes (the page works without it).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  // The buttons are named "action", which shadows form.action: read the attribute.
  var url = form.getAttribute("action");
  var sequence = form.querySelector("input[name=sequence]");
  var status = form.querySelector("[data-save-status]");
  var timer = null;
  var inflight = null;
  var closed = false;

  function save() {
    if (inflight || closed) { return inflight; }
    var data = new FormData(form);
    data.set("action", "save");
    inflight = fetch(url, { method: "POST", body: data, credentials: "same-origin",
                            headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (result) {
        if (result[1] && typeof result[1].sequence === "number") { sequence.value = result[1].sequence; }
        if (result[0] === 200 && status) { status.textContent = "✓"; }
        // Not saved: say why, in the words the server chose (too long, time is up).
        if (result[0] !== 200 && result[1] && result[1].message && status) { status.textContent = result[1].message; }
        if (result[1] && result[1].error === "time_up") { closed = true; }
      })
      .catch(function () { /* offline: the buttons still work */ })
      .then(function () { inflight = null; });
    return inflight;
  }

  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(save, 800); });
  // Handing in while a save is on its way would carry an old sequence number: wait for it.
  form.addEventListener("submit", function (event) {
    clearTimeout(timer);
    if (!inflight) { return; }
    event.preventDefault();
    var button = event.submitter;
    inflight.then(function () {
      if (form.requestSubmit) { form.requestSubmit(button); } else { form.submit(); }
    });
  });
  setInterval(save, 45000);
})();
