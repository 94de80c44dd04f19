/* Step library: the modal's life cycle and the repeating command rows of its form. */
(function () {
  "use strict";
  if (window.ResolutionFlowLibrary) { return; }  // included by several templates on one page

  var LOADING = '<div class="modal-header"><h2 class="modal-title h5" id="library-modal-title">Step library</h2>' +
    '<button type="button" class="btn-close" data-bs-dismiss="modal" aria-label="Close"></button></div>' +
    '<div class="modal-body text-center text-secondary py-5" data-library-loading>' +
    '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span> Loading…</div>';

  function modalElement() { return document.getElementById("library-modal"); }

  // Bootstrap ignores hide() while the modal is still fading in; a quick save can land then,
  // so close it as soon as it has finished opening.
  function hide(modal) {
    var instance = bootstrap.Modal.getOrCreateInstance(modal);
    var hiding = false;
    var onHide = function () { hiding = true; };
    modal.addEventListener("hide.bs.modal", onHide, { once: true });
    instance.hide();
    modal.removeEventListener("hide.bs.modal", onHide);
    if (!hiding && modal.classList.contains("show")) {
      modal.addEventListener("shown.bs.modal", function () { instance.hide(); }, { once: true });
    }
  }

  // A save or delete answered 204 with an event: close the modal and say what happened.
  // The library list listens to the same events and refreshes itself.
  function done(event) {
    var modal = modalElement();
    if (modal) { hide(modal); }
    var detail = event.detail || {};
    if (detail.message && window.ResolutionFlow) { window.ResolutionFlow.toast(detail.message); }
  }
  document.body.addEventListener("libraryStepSaved", done);
  document.body.addEventListener("libraryStepDeleted", done);
  // A Choose button of the embedded browser did its job (e.g. inserted into a session).
  document.body.addEventListener("libraryStepChosen", done);

  // The next opening shows a spinner, not the previous entry, until its content arrives.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "library-modal") {
      document.getElementById("library-modal-content").innerHTML = LOADING;
    }
  });

  // Keyboard users land in the first field (or on the first field with an error).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "library-modal-content") { return; }
    var field = event.target.querySelector(".is-invalid") || event.target.querySelector("[autofocus]") ||
      event.target.querySelector(".modal-body input:not([type=hidden]), .modal-body textarea");
    if (field && document.activeElement !== field && !event.target.contains(document.activeElement)) {
      field.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-command-add]");
    if (add) {
      var rows = document.getElementById(add.dataset.commandAdd);
      var template = document.getElementById(add.dataset.commandTemplate);
      rows.appendChild(template.content.cloneNode(true));
      rows.lastElementChild.querySelector("input").focus();
      return;
    }
    var remove = event.target.closest("[data-command-remove]");
    if (remove) {
      var row = remove.closest(".command-row");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      var focus = next ? next.querySelector("[data-command-remove]") : document.querySelector("[data-command-add]");
      if (focus) { focus.focus(); }
    }
  });

  window.ResolutionFlowLibrary = { close: done };
})();
