/* CVN client glue: CSRF header for htmx, service worker, copy buttons.
   Loaded from a file: the Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";
  // Every htmx request carries the CSRF token in a header (Flask-WTF reads X-CSRFToken).
  // The token lives in <body>, so it is fresh after a boosted navigation (e.g. log-in).
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.getElementById("csrf-token");
    if (holder) { event.detail.headers["X-CSRFToken"] = holder.getAttribute("data-token"); }
  });

  // After a boosted navigation, move focus to the new main content for screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) {
      var main = document.getElementById("contenu");
      if (main) { main.focus({ preventScroll: true }); }
    }
  });

  // Copy buttons: <button data-copy="#field-id">; the field stays selectable as a fallback.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = function () {
      var status = document.getElementById(button.getAttribute("aria-describedby") || "");
      if (status) { status.textContent = button.getAttribute("data-copied") || "Copié"; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value || field.textContent).then(done, function () { field.select(); });
    } else {
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  if ("serviceWorker" in navigator) {
    var script = document.currentScript || document.querySelector("script[data-sw]");
    var url = script && script.getAttribute("data-sw");
    if (url) {
      window.addEventListener("load", function () { navigator.serviceWorker.register(url, { scope: "/" }); });
    }
  }
})();
