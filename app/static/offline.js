// Optional: offline use (docs/architecture.md, "Offline"). Without it every page works as before.
// Registers the service worker, keeps courses on the phone, queues writes made offline in
// IndexedDB and sends them, in order and each with its idempotency key, when back online.
(function () {
  "use strict";
  var script = document.currentScript, me = script && script.getAttribute("data-user");
  if (!me || !("serviceWorker" in navigator) || !window.indexedDB || !window.fetch || !window.caches) { return; }
  var registered = navigator.serviceWorker.register("/sw.js", { scope: "/" });
  registered.catch(function () {});
  var S = null, syncing = false, main = document.getElementById("main"), WAITING = "nergi-waiting-" + me;

  function strings() {
    if (S) { return Promise.resolve(S); }
    return fetch("/offline/strings.json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).catch(function () { return {}; })
      .then(function (s) { S = s; return s; });
  }
  function t(key, values) {
    var text = (S && S[key]) || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function kb(bytes) { return Math.max(1, Math.round(bytes / 1024)) + " KB"; }
  function date(iso) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" })
        .format(new Date(iso));
    } catch (e) { return iso; }
  }
  function key() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    return Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // -- the queue (IndexedDB) ----------------------------------------------------------
  function open() {
    return new Promise(function (ok, fail) {
      var request = indexedDB.open("nergi", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
        request.result.createObjectStore("problems", { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { ok(request.result); };
      request.onerror = function () { fail(request.error); };
    });
  }
  // Run work(store) in one transaction; resolves with what the last request returned.
  function tx(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (ok, fail) {
        var transaction = db.transaction(name, mode), result;
        var request = work(transaction.objectStore(name));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        transaction.oncomplete = function () { db.close(); ok(result); };
        transaction.onerror = transaction.onabort = function () { db.close(); fail(transaction.error); };
      });
    });
  }
  function mine(name) {
    return tx(name, "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return all.filter(function (entry) { return entry.user === me; });
    });
  }
  // Add an entry; an older entry it supersedes (the same lesson, attempt or draft) goes.
  function enqueue(data) {
    return tx("queue", "readwrite", function (s) {
      s.getAll().onsuccess = function (event) {
        event.target.result.forEach(function (old) {
          var d = old.data;
          if (old.user === me && d.kind === data.kind && d.course === data.course && d.item === data.item
              && d.attempt === data.attempt) { s.delete(old.id); }
        });
        s.add({ user: me, key: key(), data: data, page: location.pathname, at: Date.now() });
      };
    });
  }

  function say(text, before, role) {
    var old = document.querySelector(".offline-status");
    if (old) { old.remove(); }
    var note = el("p", text, "flash offline-status");
    note.setAttribute("role", role || "status");
    (before || main.firstChild).parentNode.insertBefore(note, before || main.firstChild);
  }

  // -- writes made offline ------------------------------------------------------------
  function entryFor(form, submitter) {
    var path = new URL(form.getAttribute("action") || "", location.href).pathname, m, fields = {};
    if ((m = /^\/courses\/([^/]+)\/([^/]+)\/done$/.exec(path))) {
      return [{ kind: "done", course: decodeURIComponent(m[1]), item: decodeURIComponent(m[2]) }, "queued_done"];
    }
    if ((m = /^\/attempts\/(\d+)$/.exec(path))) {
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrf_token" && name !== "action" && name !== "sequence") { (fields[name] = fields[name] || []).push(value); }
      });
      return [{ kind: "quiz", attempt: +m[1], sequence: +form.elements.sequence.value, answers: fields }, "queued_quiz"];
    }
    if ((m = /^\/courses\/([^/]+)\/([^/]+)\/work$/.exec(path)) && form.elements.body && !(submitter && submitter.getAttribute("formaction"))) {
      return [{ kind: "draft", course: decodeURIComponent(m[1]), item: decodeURIComponent(m[2]),
                version: +(form.elements.version.value || 0), body: form.elements.body.value }, "queued_draft"];
    }
    return null;
  }
  function keepOffline(form, submitter, quietly) {
    var entry = entryFor(form, submitter);
    if (!entry) { return false; }
    Promise.all([enqueue(entry[0]), strings()]).then(showQueue).then(function () {
      if (!quietly) { say(t(entry[1]), form); }
    });
    return true;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (/\/logout$/.test(form.getAttribute("action") || "")) { return signOut(event, form); }
    if (navigator.onLine) { return; }
    if (keepOffline(form, event.submitter, false)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // Answers and text are kept as they change, also when the learner never presses a button.
  document.addEventListener("change", function (event) {
    if (!navigator.onLine && event.target.form && event.target.form.method === "post") {
      var form = event.target.form;
      if (/^\/(attempts\/\d+|courses\/[^/]+\/[^/]+\/work)$/.test(form.getAttribute("action") || "")) {
        keepOffline(form, null, true);
      }
    }
  }, true);

  // -- sending, in order --------------------------------------------------------------
  function send(entry, csrf) {
    return fetch("/offline/sync", {
      method: "POST", credentials: "same-origin", body: JSON.stringify(entry.data),
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrf, "Idempotency-Key": entry.key }
    }).then(function (response) {
      if (response.ok) {
        refresh(entry.page);
        return tx("queue", "readwrite", function (s) { return s.delete(entry.id); }).then(function () { return true; });
      }
      if (response.status >= 500 || response.status === 401 || response.status === 429) { return false; }
      // The server's rules said no (409: changed meanwhile, handed in, time up): tell the
      // learner and keep what they wrote, never drop it.
      return response.json().catch(function () { return {}; }).then(function (body) {
        return tx("problems", "readwrite", function (s) {
          return s.add({ user: me, data: entry.data, page: entry.page, message: body.message || String(response.status),
                         saved: body.saved, at: Date.now() });
        });
      }).then(function () {
        return tx("queue", "readwrite", function (s) { return s.delete(entry.id); });
      }).then(function () { return true; });
    }, function () { return false; });
  }
  function refresh(url) {
    if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage({ type: "refresh", url: url }); }
  }
  function sync() {
    if (syncing) { return Promise.resolve(); }
    if (!navigator.onLine) { return showQueue(); }
    syncing = true;
    var sent = false;
    return mine("queue").then(function (entries) {
      if (!entries.length) { return; }
      return fetch("/offline/state.json", { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (state) {
          if (state.user !== me) { return strings().then(function () { say(t("sign_in")); }); }
          return entries.reduce(function (chain, entry) {
            return chain.then(function (going) { return going && send(entry, state.csrf).then(function (ok) { sent = sent || ok; return ok; }); });
          }, Promise.resolve(true));
        });
    }).catch(function () {}).then(function () {
      syncing = false;
      return showQueue(sent);
    });
  }

  // -- what is waiting, what went wrong -----------------------------------------------
  function showQueue(justSent) {
    return Promise.all([mine("queue"), mine("problems"), strings()]).then(function (got) {
      var waiting = got[0], problems = got[1];
      localStorage.setItem(WAITING, waiting.length);
      if (problems.length) {
        say(t("problems"), null, "alert");
      } else if (waiting.length) {
        say(t("waiting", { num: waiting.length }));
      } else if (justSent) {
        say(t("sent"));
      }
      var list = document.querySelector(".offline-queue");
      if (!list) { return; }
      list.textContent = "";
      waiting.forEach(function (entry) {
        list.appendChild(el("li", t("kind_" + entry.data.kind) + " · " + entry.page + " · " + date(entry.at)));
      });
      if (!waiting.length) { list.appendChild(el("li", t("none_waiting"), "small")); }
      var box = document.querySelector(".offline-problems");
      box.textContent = "";
      problems.forEach(function (problem) {
        var card = el("div", "", "card error-summary");
        card.appendChild(el("p", problem.message));
        var link = el("a", t("kind_" + problem.data.kind) + " · " + problem.page);
        link.href = problem.page;
        card.appendChild(link);
        var text = problem.data.body || (problem.data.answers ? JSON.stringify(problem.data.answers) : "");
        if (text) {
          var area = el("textarea");
          area.readOnly = true;
          area.rows = 6;
          area.value = text;
          area.setAttribute("aria-label", t("copy_text"));
          card.appendChild(area);
        }
        var dismiss = el("button", t("dismiss"));
        dismiss.type = "button";
        dismiss.addEventListener("click", function () {
          tx("problems", "readwrite", function (s) { return s.delete(problem.id); }).then(showQueue);
        });
        card.appendChild(dismiss);
        box.appendChild(card);
      });
    });
  }
  function showStored() {
    var list = document.querySelector(".offline-stored");
    if (!list) { return; }
    function entries(cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) {
          return cache.match(k).then(function (r) { return [new URL(k.url).pathname, r]; });
        }));
      });
    }
    Promise.all([caches.open("nergi-k-" + me), caches.open("nergi-v-" + me), strings()]).then(function (got) {
      return Promise.all([entries(got[0]), entries(got[1])]);
    }).then(function (found) {
      list.textContent = "";
      var seen = {};
      found[0].concat(found[1]).forEach(function (pair) {
        var path = pair[0], response = pair[1], title = response && response.headers.get("X-Nergi-Title");
        if (!title || seen[path] || path === "/offline") { return; }
        seen[path] = true;
        var item = el("li"), link = el("a", decodeURIComponent(title));
        link.href = path;
        item.appendChild(link);
        item.appendChild(el("span", " · " + date(response.headers.get("X-Nergi-Saved")), "small"));
        list.appendChild(item);
      });
      if (!list.firstChild) { list.appendChild(el("li", t("none_stored"), "small")); }
    });
  }

  // -- keeping a course ---------------------------------------------------------------
  function course(box) {
    var keepButton = box.querySelector("[data-keep]"), dropButton = box.querySelector("[data-drop]");
    var bar = null, status = box.querySelector("[role=status]");
    // The progress bar exists only while a download runs.
    function progress(done, total) {
      if (!bar) { bar = box.insertBefore(el("progress"), status); }
      if (total) { bar.max = total; bar.value = done; }
    }
    function stopped() {
      if (bar) { bar.remove(); bar = null; }
      keepButton.disabled = false;
    }
    var slug = box.getAttribute("data-course"), bundle = null;
    function post(message) {
      return navigator.serviceWorker.ready.then(function (registration) { registration.active.postMessage(message); });
    }
    function assets() {
      return Array.prototype.map.call(document.querySelectorAll("link[rel=stylesheet], script[src]"), function (node) {
        return new URL(node.href || node.src).pathname + new URL(node.href || node.src).search;
      });
    }
    function download(ask) {
      return fetch(box.getAttribute("data-bundle"), { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          bundle = data;
          return strings();
        }).then(function () {
          if (ask && !window.confirm(t("keep_confirm", { size: kb(bundle.bytes) }))) { return; }
          keepButton.disabled = true;
          progress();
          return post({ type: "keep", user: me, bundle: bundle, assets: assets() });
        }).catch(function () { strings().then(function () { status.textContent = t("keep_failed"); }); });
    }
    navigator.serviceWorker.addEventListener("message", function (event) {
      var m = event.data || {};
      if (m.course !== slug) { return; }
      if (m.type === "progress") {
        progress(m.done, m.total);
        status.textContent = t("keeping", { done: m.done, total: m.total });
      } else if (m.type === "failed") {
        stopped();
        status.textContent = t("keep_failed");
      } else if (m.type === "status") {
        box.hidden = false;  // shown once the service worker answers: it works here
        stopped();
        keepButton.hidden = !!m.record;
        dropButton.hidden = !m.record;
        status.textContent = m.record ? t("kept", { size: kb(m.record.bytes), date: date(m.record.saved) }) : "";
        // The course changed on the server since it was kept: fetch it again (once per change).
        if (m.record && m.record.hash !== box.getAttribute("data-hash") && navigator.onLine && !bundle) {
          download(false);
        }
      }
    });
    keepButton.addEventListener("click", function () { download(true); });
    dropButton.addEventListener("click", function () { post({ type: "drop", user: me, course: slug }); });
    strings().then(function () { post({ type: "status", user: me, course: slug }); });
  }

  // -- signing out: a phone is often shared -------------------------------------------
  function forget() {
    localStorage.removeItem(WAITING);
    return Promise.all([caches.delete("nergi-k-" + me), caches.delete("nergi-v-" + me),
      ["queue", "problems"].reduce(function (chain, name) {
        return chain.then(function () { return mine(name); }).then(function (entries) {
          return tx(name, "readwrite", function (s) { entries.forEach(function (e) { s.delete(e.id); }); });
        });
      }, Promise.resolve())]).catch(function () {});
  }
  function signOut(event, form) {
    // Nothing waiting: sign out at once; the server's Clear-Site-Data empties the stores.
    if (form.getAttribute("data-forgotten") || !+localStorage.getItem(WAITING)) {
      forget();
      return;
    }
    event.preventDefault();
    sync().then(function () { return Promise.all([mine("queue"), strings()]); }).then(function (got) {
      if (got[0].length && !window.confirm(t("sign_out_confirm", { num: got[0].length }))) { return; }
      return forget().then(function () {
        form.setAttribute("data-forgotten", "1");
        form.submit();
      });
    });
  }

  var box = document.querySelector(".offline-keep");
  // Offer to keep the course only where the service worker could be registered.
  if (box) { registered.then(function () { course(box); }, function () {}); }
  showStored();
  window.addEventListener("online", sync);
  mine("queue").then(function (waiting) {
    return mine("problems").then(function (problems) {
      if (waiting.length || problems.length || document.querySelector(".offline-queue")) { return sync(); }
    });
  }).catch(function () {});
})();
