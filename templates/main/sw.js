/* CVN service worker, version {{ version }} (a hash of every static file: a new file, a new worker).
   - Static files: content-hashed URLs, cache first (the app shell is precached at install).
   - Pages: network first. A page that says X-CVN-Offline (a patient's own carnets) is kept in
     the cache of its account (X-CVN-Account) and shown offline with its "dernière mise à jour" line.
   - A page of another account, of nobody (log-out) or a 401 empties every other account's cache.
   - Professionals' pages never say X-CVN-Offline: nothing of theirs is ever kept. */
const VERSION = {{ version|tojson }};
const SHELL_CACHE = "cvn-shell-" + VERSION;
const PAGES = "cvn-pages-";
const OFFLINE_URL = {{ offline_url|tojson }};
const SHELL = {{ shell_urls|tojson }};
const ANONYMOUS = "anonyme";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => Promise.all([
        cache.addAll(SHELL),
        // The offline page is the same for everyone: fetched without cookies.
        fetch(new Request(OFFLINE_URL, { credentials: "omit" })).then((r) => cache.put(OFFLINE_URL, r)),
      ]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((k) => k !== SHELL_CACHE && !k.startsWith(PAGES))
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

/* Empty the page caches of every account but `keep` (all of them when `keep` is empty). */
function clearPages(keep) {
  return caches.keys().then((keys) => Promise.all(keys
    .filter((k) => k.startsWith(PAGES) && k !== PAGES + keep)
    .map((k) => caches.delete(k))));
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "account") {
    event.waitUntil(clearPages(data.account === ANONYMOUS ? "" : data.account));
  } else if (data.type === "skip-waiting") {
    event.waitUntil(self.skipWaiting());
  } else if (data.type === "clear") {
    event.waitUntil(clearPages(""));
  }
});

/* Learn from a page answer: whose it is, and whether it may be kept for offline reading.
   Copies are taken at once, before the page reads the body. */
function remember(request, response) {
  if (response.status === 401) { return clearPages(""); }
  const account = response.headers.get("X-CVN-Account");
  if (!account) { return Promise.resolve(); }
  if (account === ANONYMOUS) { return clearPages(""); }
  const keep = response.ok && response.headers.get("X-CVN-Offline") === "1";
  const urls = [response.url || request.url];
  if (response.redirected && request.url !== response.url) { urls.push(request.url); }
  const copies = keep ? urls.map(() => response.clone()) : [];
  return clearPages(account).then(() => keep && caches.open(PAGES + account)
    .then((cache) => Promise.all(urls.map((u, i) => cache.put(u, copies[i])))));
}

/* The kept copy of a page in any account's cache (exact address first, then the same path). */
async function keptCopy(url) {
  const names = (await caches.keys()).filter((k) => k.startsWith(PAGES));
  for (const name of names) {
    const cache = await caches.open(name);
    const hit = (await cache.match(url, { ignoreVary: true }))
      || (await cache.match(url, { ignoreVary: true, ignoreSearch: true }));
    if (hit) { return hit; }
  }
  return undefined;
}

/* Offline: the kept copy with its "dernière mise à jour" line shown, or the offline page. */
async function offlineCopy(request) {
  const hit = await keptCopy(request.url);
  if (!hit) { return caches.match(OFFLINE_URL, { ignoreVary: true }); }
  const html = await hit.text();
  const headers = new Headers(hit.headers);
  headers.delete("Content-Length");
  headers.delete("Content-Encoding");
  headers.set("X-CVN-From-Cache", "1");
  return new Response(html.replace("data-offline-note hidden", "data-offline-note"), { status: 200, headers: headers });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok && url.searchParams.has("v")) {
          const copy = response.clone();
          caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      }).catch(() => caches.match(request, { ignoreVary: true, ignoreSearch: true })))
    );
    return;
  }
  const page = request.mode === "navigate" || request.headers.get("HX-Boosted") === "true";
  if (page) {
    event.respondWith(
      fetch(request)
        .then((response) => { event.waitUntil(remember(request, response)); return response; })
        .catch(() => offlineCopy(request))
    );
    return;
  }
  // Other requests (htmx fragments, JSON) go to the network; a 401 still empties the caches.
  event.respondWith(fetch(request).then((response) => {
    if (response.status === 401) { event.waitUntil(clearPages("")); }
    return response;
  }));
});
