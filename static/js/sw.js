/* CVN service worker: caches the app shell only, never a page with health data.
   Navigations go to the network; when it is unreachable, the offline page is shown. */
const VERSION = "cvn-shell-v1";
const SHELL = [
  "/hors-ligne",
  "/static/css/cvn.css",
  "/static/js/app.js",
  "/static/js/htmx-2.0.11.min.js",
  "/static/icons/icon-192.png",
  "/static/icons/logo.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/hors-ligne")));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
