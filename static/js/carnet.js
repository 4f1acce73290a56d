/* The carnet screen: after a change swapped in, move focus to what it announces
   (the new dose row, the confirmation, the form's heading): elements marked data-focus. */
(function () {
  "use strict";
  if (window.cvnCarnetScreen) { return; }
  window.cvnCarnetScreen = true;

  function focusMarked(root) {
    var target = (root || document).querySelector("[data-focus]");
    if (!target) { return; }
    target.removeAttribute("data-focus");
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) { return; }
    focusMarked(document);
  });
})();
