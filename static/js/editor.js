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

  // Drag and drop (SortableJS): a dropped item posts its new place as `to` to the same move
  // service the arrow buttons use; the answer is the re-rendered editor, like any change. A
  // refused move (stale page, bad place) comes back as the current order with its message.
  function revision() {
    var body = document.getElementById("editor-body");
    return body ? body.dataset.revision : "";
  }
  function makeSortable(list) {
    if (list.rfSortable || !window.Sortable) { return; }
    list.rfSortable = Sortable.create(list, {
      handle: ".drag-handle",
      draggable: "[data-move-url]",
      forceFallback: true, // pointer events: the same on mouse, touch and pen
      fallbackTolerance: 3,
      animation: 120,
      ghostClass: "drag-ghost",
      onEnd: function (event) {
        if (event.oldDraggableIndex === event.newDraggableIndex) { return; }
        var item = event.item;
        htmx.ajax("POST", item.dataset.moveUrl, {
          source: item,
          target: "#editor-body",
          swap: "outerHTML",
          values: { revision: revision(), to: String(event.newDraggableIndex) }
        });
      }
    });
  }
  function setUp(root) {
    (root || document).querySelectorAll("[data-sortable]").forEach(makeSortable);
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target.parentNode || document); });
})();
