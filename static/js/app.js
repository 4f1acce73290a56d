/* CVN client glue: CSRF header for htmx, service worker, copy buttons, offline messages.
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
  // After a fragment swap that removed the focused control, move focus into the new fragment:
  // its first error, else its first field, else its heading, else the fragment itself.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) {
      var main = document.getElementById("contenu");
      if (main) { main.focus({ preventScroll: true }); }
      return;
    }
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) { return; }
    var swapped = event.target;
    if (!swapped || !swapped.isConnected) {
      var target = event.detail && event.detail.target;
      swapped = target && target.id ? document.getElementById(target.id) : null;
    }
    // An out-of-band update of the header (the "À valider" count) is not where the reader goes.
    if (!swapped || !swapped.isConnected || swapped.closest(".site-header")) { return; }
    var goal = swapped.querySelector("[aria-invalid=true], [role=alert]")
      || swapped.querySelector("input:not([type=hidden]), select, textarea")
      || swapped.querySelector("h1, h2, h3") || swapped;
    if (!goal.matches("input, select, textarea, button, a[href]") && !goal.hasAttribute("tabindex")) {
      goal.setAttribute("tabindex", "-1");
    }
    goal.focus();
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

  // Offline: a form is not sent, and says so next to its button, keeping what was typed.
  var OFFLINE = "Pas de connexion : rien n’a été envoyé";
  function sayOffline(elt) {
    if (!elt) { return; }
    var form = elt.closest("form");
    var anchor = form ? (form.querySelector("[type=submit], button:not([type])") || form.lastElementChild) : elt;
    if (!anchor) { return; }
    var holder = form || anchor.parentNode;
    var note = holder.querySelector("[data-offline-message]");
    if (!note) {
      note = document.createElement("p");
      note.className = "offline-message";
      note.setAttribute("role", "alert");
      note.setAttribute("data-offline-message", "");
      anchor.insertAdjacentElement("afterend", note);
    }
    note.textContent = OFFLINE;
  }
  function clearOffline(elt) {
    var form = elt && elt.closest && elt.closest("form");
    var note = form && form.querySelector("[data-offline-message]");
    if (note) { note.remove(); }
  }
  // Capture phase: runs before htmx's own listener on a boosted form, and stops it.
  document.addEventListener("submit", function (event) {
    if (navigator.onLine === false) {
      event.preventDefault();
      event.stopPropagation();
      sayOffline(event.submitter || event.target);
    }
  }, true);
  // An htmx request that could not reach the server (a flaky network that still says "online").
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail && event.detail.elt;
    var config = event.detail && event.detail.requestConfig;
    if (config && config.verb === "get" && config.boosted) {
      window.location.assign(config.path);  // a real navigation: the service worker shows the kept copy
      return;
    }
    sayOffline(elt);
  });
  document.addEventListener("htmx:beforeRequest", function (event) { clearOffline(event.detail && event.detail.elt); });

  // The network drops while a page is open: say so at the top of the page, at once, and
  // take it back when the network returns (a served-offline copy already says it, above).
  var NETWORK = "Pas de connexion : cette page reste lisible ; pour enregistrer ou envoyer, attendez le retour du réseau.";
  function networkNote(offline) {
    var note = document.getElementById("network-note");
    var main = document.getElementById("contenu");
    var served = document.querySelector("[data-offline-note]:not([hidden])");
    if (offline && !note && main && !served) {
      note = document.createElement("p");
      note.id = "network-note";
      note.className = "offline-note";
      note.setAttribute("role", "status");
      note.textContent = NETWORK;
      main.insertAdjacentElement("afterbegin", note);
    } else if (!offline && note) {
      note.remove();
    }
  }
  window.addEventListener("offline", function () { networkNote(true); });
  window.addEventListener("online", function () { networkNote(false); });
  if (navigator.onLine === false) { networkNote(true); }

  // Tell the service worker whose page this is: it keeps one account's pages only, and none
  // after log-out. The log-out button empties them at once.
  function tellWorker(message) {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage(message); }
    });
  }
  function sayAccount() {
    var holder = document.getElementById("csrf-token");
    var account = holder && holder.getAttribute("data-account");
    if (account) { tellWorker({ type: "account", account: account }); }
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("[data-logout]")) { tellWorker({ type: "clear" }); }
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail && event.detail.xhr && event.detail.xhr.status === 401) { tellWorker({ type: "clear" }); }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) { sayAccount(); }
  });

  // The phone's menu closes with Escape (focus back on its button) and with a tap outside it.
  document.addEventListener("keydown", function (event) {
    var menu = document.querySelector(".nav-menu[open]");
    if (menu && event.key === "Escape") { menu.open = false; menu.querySelector("summary").focus(); }
  });
  document.addEventListener("click", function (event) {
    var menu = document.querySelector(".nav-menu[open]");
    if (menu && !menu.contains(event.target)) { menu.open = false; }
  });

  // "Réessayer" on the offline page: load the same address again.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-retry]")) { event.preventDefault(); window.location.reload(); }
  });

  if ("serviceWorker" in navigator) {
    var script = document.currentScript || document.querySelector("script[data-sw]");
    var url = script && script.getAttribute("data-sw");
    if (url) {
      window.addEventListener("load", function () {
        // Ask for a new worker at each page load: a changed static file makes a new one at once.
        navigator.serviceWorker.register(url, { scope: "/" }).then(function (registration) {
          sayAccount();
          // A new worker waiting (a new version of the static files) takes over at once.
          var promote = function () { if (registration.waiting) { registration.waiting.postMessage({ type: "skip-waiting" }); } };
          registration.addEventListener("updatefound", function () {
            var worker = registration.installing;
            if (worker) { worker.addEventListener("statechange", promote); }
          });
          promote();
          return registration.update().then(promote);
        }).catch(function () { /* offline: the current worker keeps serving */ });
      });
    }
  }
})();
