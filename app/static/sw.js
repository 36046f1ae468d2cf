// Nergi's service worker: pages kept for reading offline (docs/architecture.md, "Offline").
// One pair of caches per user ("nergi-k-<tag>" for kept courses, "nergi-v-<tag>" for pages
// visited, at most VISITED_MAX); the tag comes from the server's X-Nergi-User header, and a
// page for another user drops the previous user's caches.
"use strict";
var META = "nergi-meta", KEPT = "nergi-k-", VISITED = "nergi-v-", VISITED_MAX = 60;
var STORED = /^\/(courses\/|attempts\/\d+$|$)/;
var owner = null;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function loadOwner() {
  if (owner !== null) { return Promise.resolve(owner); }
  return caches.open(META).then(function (c) { return c.match("/__owner"); })
    .then(function (r) { return r ? r.text() : ""; }).then(function (tag) { owner = tag; return tag; });
}

function setOwner(tag) {
  return loadOwner().then(function (current) {
    if (!tag || tag === current) { return; }
    owner = tag;
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return (n.indexOf(KEPT) === 0 || n.indexOf(VISITED) === 0) && n !== KEPT + tag && n !== VISITED + tag;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return caches.open(META); })
      .then(function (c) { return c.put("/__owner", new Response(tag)); });
  });
}

// A copy of the response that says when it was saved, its title, and the course it was kept for.
function stamp(response, course) {
  var headers = new Headers(response.headers);
  headers.set("X-Nergi-Saved", new Date().toISOString());
  if (course) { headers.set("X-Nergi-Course", course); }
  var html = (headers.get("Content-Type") || "").indexOf("text/html") === 0;
  return (html ? response.text() : response.blob()).then(function (body) {
    if (html) {
      var title = /<title>([^<]*)<\/title>/.exec(body);
      if (title) { headers.set("X-Nergi-Title", encodeURIComponent(title[1].replace(/ · Nergi$/, ""))); }
    }
    return new Response(body, { status: response.status, headers: headers });
  });
}

function match(request) {
  if (!owner) { return Promise.resolve(undefined); }
  return caches.open(KEPT + owner).then(function (c) { return c.match(request); }).then(function (hit) {
    return hit || caches.open(VISITED + owner).then(function (c) { return c.match(request); });
  });
}

function strings() {
  return match("/offline/strings.json").then(function (r) { return r ? r.json() : {}; }).catch(function () { return {}; });
}

function escape(text) {
  return text.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]; });
}

function when(iso, lang) {
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  } catch (e) { return iso; }
}

// A stored page, with a discreet note that it is an offline copy and when it was saved.
function annotate(response) {
  var saved = response.headers.get("X-Nergi-Saved") || "";
  return Promise.all([response.text(), strings()]).then(function (got) {
    var s = got[1], text = (s.copy || "Offline copy, saved {date}.").split("{date}").join(when(saved, s.lang));
    var note = '<p class="offline-note" role="note" data-saved="' + escape(saved) + '">' + escape(text) + "</p>";
    var html = got[0].replace('<main id="main" tabindex="-1">', function (m) { return m + note; });
    return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

function offline(request) {
  return loadOwner().then(function () { return match(request); }).then(function (hit) {
    if (hit) { return annotate(hit); }
    return match("/offline").then(function (page) {
      return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - VISITED_MAX)).map(function (k) { return cache.delete(k); }));
  });
}

// A page the learner opened: refresh it where it is kept, or keep it among the visited ones.
function remember(request, response) {
  var path = new URL(request.url).pathname;
  return stamp(response).then(function (copy) {
    return caches.open(KEPT + owner).then(function (kept) {
      return kept.match(request).then(function (old) {
        if (old) {
          var headers = new Headers(copy.headers);
          headers.set("X-Nergi-Course", old.headers.get("X-Nergi-Course") || "");
          return copy.blob().then(function (b) { return kept.put(request, new Response(b, { headers: headers })); });
        }
        if (!STORED.test(path)) { return; }
        return caches.open(VISITED + owner).then(function (v) { return v.put(request, copy).then(function () { return trim(v); }); });
      }).then(function () { return kept.match("/offline"); }).then(function (page) {
        // The offline page and the script's strings, in this learner's language, once.
        if (!page) { return fetchInto(kept, ["/offline", "/offline/strings.json"], "", function () {}); }
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(loadOwner().then(function () {
      if (!navigator.onLine) { return offline(request); }
      return fetch(request).then(function (response) {
        var tag = response.headers.get("X-Nergi-User");
        if (tag && response.ok && !response.redirected) {
          var copy = response.clone();
          event.waitUntil(setOwner(tag).then(function () { return remember(request, copy); }).catch(function () {}));
        }
        return response;
      }, function () { return offline(request); });
    }));
  } else if (/^\/(static|media)\//.test(url.pathname)) {
    // Their addresses carry a hash of the content: a stored copy is always right.
    event.respondWith(loadOwner().then(function () { return match(request); }).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (owner && response.ok && url.pathname.indexOf("/static/") === 0) {
          var copy = response.clone();
          event.waitUntil(caches.open(KEPT + owner).then(function (c) { return c.put(request, copy); }));
        }
        return response;
      });
    }));
  } else if (url.pathname === "/offline/strings.json") {
    event.respondWith(fetch(request).catch(function () {
      return loadOwner().then(function () { return match(request); }).then(function (hit) { return hit || Response.error(); });
    }));
  }
});

// Fetch the addresses two at a time (a weak connection is not flooded) into the cache.
function fetchInto(cache, urls, course, progress) {
  var queue = urls.slice(), done = 0;
  function next() {
    var url = queue.shift();
    if (!url) { return null; }
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) { throw new Error(url); }
      return stamp(response, course);
    }).then(function (copy) { return cache.put(url, copy); }).then(function () {
      done += 1;
      progress(done, urls.length);
      return next();
    });
  }
  return Promise.all([next(), next()]);
}

function record(course) {
  return match("/__nergi/course/" + course).then(function (r) { return r ? r.json() : null; });
}

function keep(message, client) {
  var bundle = message.bundle, cache;
  var urls = bundle.pages.concat(bundle.media, ["/offline", "/offline/strings.json"], message.assets || []);
  return setOwner(message.user).then(function () { return caches.open(KEPT + owner); }).then(function (c) {
    cache = c;
    return fetchInto(cache, urls, bundle.course, function (done, total) {
      client.postMessage({ type: "progress", course: bundle.course, done: done, total: total });
    });
  }).then(function () {
    var kept = { course: bundle.course, title: bundle.title, hash: bundle.hash, bytes: bundle.bytes,
                 saved: new Date().toISOString(), urls: bundle.pages.concat(bundle.media) };
    return cache.put("/__nergi/course/" + bundle.course, new Response(JSON.stringify(kept)))
      .then(function () { client.postMessage({ type: "status", course: bundle.course, record: kept }); });
  }).catch(function () { client.postMessage({ type: "failed", course: bundle.course }); });
}

function drop(message, client) {
  return loadOwner().then(function () { return record(message.course); }).then(function (kept) {
    if (!kept || !owner) { return; }
    return caches.open(KEPT + owner).then(function (cache) {
      return Promise.all(kept.urls.concat(["/__nergi/course/" + message.course]).map(function (u) { return cache.delete(u); }));
    });
  }).then(function () { client.postMessage({ type: "status", course: message.course, record: null }); });
}

self.addEventListener("message", function (event) {
  var message = event.data || {}, client = event.source, job;
  if (message.type === "keep") {
    job = keep(message, client);
  } else if (message.type === "drop") {
    job = drop(message, client);
  } else if (message.type === "status") {
    job = setOwner(message.user).then(function () { return record(message.course); }).then(function (kept) {
      client.postMessage({ type: "status", course: message.course, record: kept });
    });
  } else if (message.type === "refresh") {
    // A page whose state changed on the server (a write was replayed): fetch it again if stored.
    job = loadOwner().then(function () { return match(message.url); }).then(function (old) {
      if (!old) { return; }
      return fetch(message.url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) { return remember(new Request(message.url), response); }
      });
    });
  }
  if (job) { event.waitUntil(job.catch(function () {})); }
});
