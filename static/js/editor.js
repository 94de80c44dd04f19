/* The visual flow editor: the "Show ids" switch, drag-and-drop reordering that posts the
   same move forms as the keyboard's up/down buttons, and what the diagram's nodes open. */
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
  // The diagram above the outline (static/js/diagram.js): a node opens its form in the
  // outline exactly as its Edit button does; its + opens the same form at "Add a node".
  function waitFor(find, then, tries) {
    var found = find();
    if (found) { then(found); return; }
    if ((tries || 0) < 100) { setTimeout(function () { waitFor(find, then, (tries || 0) + 1); }, 50); }
  }
  function openNode(id, then) {
    var card = document.getElementById("node-" + id);
    if (!card) { return; }
    var area = card.querySelector(".collapse");
    var button = card.querySelector('.editor-row-actions [data-bs-toggle="collapse"]');
    if (area && button && !area.classList.contains("show") && !area.classList.contains("collapsing")) { button.click(); }
    waitFor(function () { return area && area.querySelector("form.node-form"); }, function (form) {
      then(form, card);
    });
  }
  function firstField(scope) {
    return scope && scope.querySelector("input:not([type=hidden]), select, textarea");
  }
  document.addEventListener("rf:diagram-activate", function (event) {
    if (event.detail.mode !== "edit") { return; }
    openNode(event.detail.id, function (form, card) {
      card.scrollIntoView({ block: "start", behavior: "smooth" });
      var field = firstField(form);
      if (field) { field.focus({ preventScroll: true }); }
    });
  });
  document.addEventListener("rf:diagram-add", function (event) {
    openNode(event.detail.id, function (form, card) {
      waitFor(function () { return card.querySelector(".add-node-form"); }, function (add) {
        add.scrollIntoView({ block: "center", behavior: "smooth" });
        var field = firstField(add);
        if (field) { field.focus({ preventScroll: true }); }
      });
    });
  });

  document.addEventListener("DOMContentLoaded", function () { setUp(); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target.parentNode || document); });
})();
