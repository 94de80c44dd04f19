/* Batch status page: polls that ask "changed since?" and keep the reader's place.
 *
 * Each poll sends the ETag of the cards it shows (If-None-Match); an unchanged batch answers
 * 304 with no body and nothing is swapped, so an opened "Completed targets" section, the focus
 * and the scroll position stay as they are. A changed batch is swapped in, and a section the
 * reader had opened stays open. "/" focuses the search box. */
(function () {
  "use strict";

  function live() { return document.getElementById("batch-live"); }

  document.addEventListener("htmx:configRequest", function (event) {
    var holder = live();
    if (holder && event.detail.elt.id === "batch-cards" && holder.dataset.etag) {
      event.detail.headers["If-None-Match"] = holder.dataset.etag;
    }
  });

  var doneWasOpen = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 304) {
      event.detail.shouldSwap = false;
      return;
    }
    var holder = live();
    var etag = xhr.getResponseHeader("ETag");
    if (holder && etag) { holder.dataset.etag = etag; }
    var done = document.getElementById("batch-done");
    doneWasOpen = Boolean(done && done.open && event.detail.elt.id === "batch-cards");
  });

  document.addEventListener("htmx:afterSwap", function () {
    var done = document.getElementById("batch-done");
    if (done && doneWasOpen) { done.open = true; }
    doneWasOpen = false;
  });

  // "Assign…" on a card (launcher, admin): one dialog for every card, aimed at that card.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".target-assign-to");
    var dialog = document.getElementById("assign-modal");
    if (!button || !dialog) { return; }
    // Kept small, 1,000 cards carry it: the label is the card's, and on an unassigned card the
    // URL is the one "Assign to me" posts to.
    var card = button.closest(".target-card");
    var mine = card.querySelector(".target-assign[hx-post]");
    dialog.querySelector("#assign-form").action = button.dataset.url || mine.getAttribute("hx-post");
    dialog.querySelector("#assign-target").textContent = card.dataset.target;
    dialog.querySelector("#assign-person").value = button.dataset.to || "";
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  });

  var assignDialog = document.getElementById("assign-modal");
  if (assignDialog) {
    assignDialog.addEventListener("shown.bs.modal", function () {
      document.getElementById("assign-person").focus();
    });
  }

  document.addEventListener("keydown", function (event) {
    var search = document.getElementById("batch-q");
    if (!search || event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (!typing) {
      event.preventDefault();
      search.focus();
    }
  });
})();
