/* Copy for Ticket with findings (issue 14): build the text the engineer chose — every finding
   redacted, some kept after review, or all as is — copy it, and tell the server what was chosen. */
(function () {
  "use strict";

  function modal() { return document.getElementById("redaction-modal"); }

  // The preview is the PSA text itself: text nodes as they are, each <mark> either its own
  // text (kept) or its [REDACTED:kind] replacement.
  function buildText(keep) {
    var out = "";
    document.getElementById("redaction-preview").childNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) { out += node.nodeValue; return; }
      var index = node.dataset.finding;
      out += keep(index) ? node.textContent : node.dataset.replacement;
    });
    return out;
  }

  function reviewKept(index) {
    var box = modal().querySelector('[data-finding-toggle="' + index + '"]');
    return box && !box.checked;
  }

  var KEEP = {
    all: function () { return false; },
    none: function () { return true; },
    review: reviewKept
  };

  function record(choice, kept) {
    var root = modal();
    var kinds = [];
    root.querySelectorAll("mark[data-finding]").forEach(function (mark) {
      if (KEEP[choice](mark.dataset.finding)) { kinds.push(mark.dataset.kind); }
    });
    var values = { choice: choice, found: root.dataset.found, kept: String(kept) };
    if (kinds.length) { values.kinds = kinds.join(","); }
    if (window.htmx) {
      htmx.ajax("POST", root.dataset.recordUrl, { source: root, values: values, swap: "none" });
    }
  }

  function copy(choice) {
    var marks = modal().querySelectorAll("mark[data-finding]");
    var kept = 0;
    marks.forEach(function (mark) { if (KEEP[choice](mark.dataset.finding)) { kept += 1; } });
    var text = buildText(KEEP[choice]);
    window.ResolutionFlow.copyText(text, modal().querySelector(".modal-body")).then(function () {
      var redacted = marks.length - kept;
      window.ResolutionFlow.toast(
        "Copied for the ticket" + (redacted ? " with " + redacted + " finding" + (redacted === 1 ? "" : "s") + " redacted" : " as is") +
        " — paste it into your PSA.", kept ? "warning" : "success");
      record(choice, kept);
      bootstrap.Modal.getOrCreateInstance(modal()).hide();
    }, function () {
      window.ResolutionFlow.toast("Your browser refused to copy. Select the text and press Ctrl+C.", "danger");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-redaction-copy]");
    if (button) { copy(button.dataset.redactionCopy); return; }
    if (event.target.closest("[data-redaction-review]")) {
      var root = modal();
      root.querySelector("#redaction-review").classList.remove("d-none");
      root.querySelector('[data-redaction-copy="review"]').classList.remove("d-none");
      root.querySelector("[data-redaction-review]").classList.add("d-none");
      var first = root.querySelector("[data-finding-toggle]");
      if (first) { first.focus(); }
    }
  });

  // Unticking "Redact" shows that finding as it will be copied.
  document.addEventListener("change", function (event) {
    var box = event.target.closest("[data-finding-toggle]");
    if (!box) { return; }
    var mark = modal().querySelector('mark[data-finding="' + box.dataset.findingToggle + '"]');
    if (mark) { mark.classList.toggle("rf-kept", !box.checked); }
  });
})();
