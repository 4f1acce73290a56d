/* Passkeys (WebAuthn): log in, confirm identity, add a passkey.
   A button <button data-passkey="get|create" data-options="URL" data-submit="URL"> stays hidden
   unless the browser has WebAuthn and the page is served from the relying party's origin
   (data-origin). Messages go to the element named by data-status (aria-live). */
(function () {
  "use strict";

  function toBytes(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrf() {
    var holder = document.getElementById("csrf-token");
    return holder ? holder.getAttribute("data-token") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.ok = response.ok; return data;
      });
    });
  }

  function creationOptions(json) {
    var o = json;
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function requestOptions(json) {
    var o = json;
    o.challenge = toBytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function serialize(credential) {
    var r = credential.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response: response,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null
    });
  }

  function say(button, message) {
    var status = document.getElementById(button.getAttribute("data-status") || "");
    if (status) { status.textContent = message; }
  }

  function run(button) {
    var create = button.getAttribute("data-passkey") === "create";
    var extra = {};
    if (create) {
      var nameField = document.getElementById(button.getAttribute("data-name") || "");
      extra.name = nameField ? nameField.value.trim() : "";
      if (!extra.name) { say(button, button.getAttribute("data-name-missing") || ""); if (nameField) { nameField.focus(); } return; }
    }
    var remember = document.getElementById(button.getAttribute("data-remember") || "");
    if (remember) { extra.remember = remember.checked; }
    if (button.getAttribute("data-next")) { extra.next = button.getAttribute("data-next"); }
    button.disabled = true;
    say(button, button.getAttribute("data-waiting") || "");
    post(button.getAttribute("data-options")).then(function (options) {
      if (!options.ok) { throw options; }
      delete options.ok;
      return create ? navigator.credentials.create({ publicKey: creationOptions(options) })
                    : navigator.credentials.get({ publicKey: requestOptions(options) });
    }).then(function (credential) {
      extra.credential = serialize(credential);
      return post(button.getAttribute("data-submit"), extra);
    }).then(function (result) {
      if (result.redirect) { window.location.assign(result.redirect); return; }
      throw result;
    }).catch(function (error) {
      button.disabled = false;
      if (error && error.reauth) { window.location.assign(error.reauth); return; }
      var message = (error && error.error) || button.getAttribute("data-failed") || "";
      say(button, message);
    });
  }

  function reveal(root) {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    (root || document).querySelectorAll("[data-passkey-only]").forEach(function (el) {
      if (el.getAttribute("data-origin") === window.location.origin) { el.hidden = false; }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-passkey]");
    if (button) { event.preventDefault(); run(button); }
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSettle", function () { reveal(document); });
})();
