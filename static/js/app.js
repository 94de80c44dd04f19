/* ResolutionFlow: the little behaviour htmx attributes do not cover. */
(function () {
  "use strict";

  function showToasts(root) {
    (root || document).querySelectorAll(".toast:not(.rf-shown)").forEach(function (el) {
      el.classList.add("rf-shown");
      el.addEventListener("hidden.bs.toast", function () { el.remove(); });
      bootstrap.Toast.getOrCreateInstance(el).show();
    });
  }

  // A toast from script (e.g. after copying): same look as the server's message toasts.
  function toast(text, level) {
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (level || "success");
    el.setAttribute("role", "status");
    el.innerHTML = '<div class="d-flex"><div class="toast-body"></div>' +
      '<button type="button" class="btn-close btn-close-white me-2 m-auto" data-bs-dismiss="toast" aria-label="Close"></button></div>';
    el.querySelector(".toast-body").textContent = text;
    document.getElementById("toasts").appendChild(el);
    showToasts(el.parentNode);
  }

  // The Clipboard API exists only in secure contexts (https, localhost). MSP intranets often
  // serve plain http, so fall back to a selected hidden textarea and execCommand("copy").
  // `container`: where the fallback's textarea goes; inside an open modal it must be the modal,
  // or Bootstrap's focus trap takes the focus (and the selection) back before the copy.
  function copyText(text, container) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text, container); });
    }
    return legacyCopy(text, container);
  }

  function legacyCopy(text, container) {
    var parent = container || document.body;
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "-1000px";
      parent.appendChild(area);
      area.select();
      area.setSelectionRange(0, text.length);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      parent.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function textOf(button) {
    if (button.dataset.copy !== undefined) { return button.dataset.copy; }
    var target = document.querySelector(button.dataset.copyTarget);
    if (!target) { return ""; }
    return target.value !== undefined && target.tagName !== "DIV" ? target.value : target.textContent;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-target]");
    if (button) {
      event.preventDefault();
      copyText(textOf(button)).then(function () {
        toast(button.dataset.copyMessage || "Copied to the clipboard.");
      }, function () {
        toast("Your browser refused to copy. Select the text and press Ctrl+C.", "danger");
      });
      return;
    }
    // Table rows with data-href open their page (the first cell also holds a real link).
    var row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input, select, textarea")) {
      window.location.assign(row.dataset.href);
      return;
    }
    var confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Buttons with data-loading show a spinner and cannot be pressed twice while their form posts.
  document.addEventListener("submit", function (event) {
    var button = event.submitter || event.target.querySelector("[data-loading]");
    if (button && button.hasAttribute("data-loading") && !event.defaultPrevented) {
      if (button.dataset.busy) { event.preventDefault(); return; }
      button.dataset.busy = "1";
      button.disabled = true;
      button.innerHTML = '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>' +
        (button.dataset.loading || "Working…");
    }
  });

  // htmx requests cancel the submit event above, so their buttons get the loading state here.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var button = trigger && trigger.submitter;
    if (!button && event.detail.elt.matches && event.detail.elt.matches("button[data-loading]")) {
      button = event.detail.elt;
    }
    if (!button || !button.hasAttribute("data-loading") || button.dataset.idle) { return; }
    button.dataset.idle = button.innerHTML;
    button.disabled = true;
    button.innerHTML = '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>' +
      (button.dataset.loading || "Working…");
  });
  document.addEventListener("htmx:afterRequest", function () {
    // Buttons the response did not replace (e.g. the fork form before a redirect) come back.
    document.querySelectorAll("button[data-idle]").forEach(function (button) {
      button.innerHTML = button.dataset.idle;
      button.disabled = false;
      delete button.dataset.idle;
    });
  });

  // A modal filled by htmx starts empty again next time, not showing the previous flow's form.
  document.addEventListener("hidden.bs.modal", function (event) {
    var modal = event.target;
    if (!modal.hasAttribute("data-reset-on-hide")) { return; }
    var content = modal.querySelector(".modal-content");
    if (modal.dataset.blank === undefined) { return; }
    content.innerHTML = modal.dataset.blank;
  });
  // Bootstrap focuses the modal itself once shown; the first field (or the first one with an
  // error) is where the user types. Never pull focus out of a field the user is typing in:
  // Bootstrap's focus trap grabs focus when the fade ends, so remember the field to go back to.
  var FIELDS = "input, textarea, select";
  document.addEventListener("focusin", function (event) {
    var modal = event.target.closest && event.target.closest(".modal");
    if (modal && event.target.matches(FIELDS)) { modal.rfLastField = event.target; }
  });
  document.addEventListener("hidden.bs.modal", function (event) { event.target.rfLastField = null; });
  function focusFirstField(modal) {
    if (!modal) { return; }
    var active = document.activeElement;
    if (active && modal.contains(active) && active.matches(FIELDS)) { return; }
    var last = modal.rfLastField;
    var field = (last && last.isConnected && modal.contains(last) && last) ||
      modal.querySelector(".is-invalid") || modal.querySelector("[autofocus]");
    if (field) { field.focus(); }
  }
  document.addEventListener("shown.bs.modal", function (event) { focusFirstField(event.target); });
  document.addEventListener("htmx:afterSettle", function (event) {
    focusFirstField(event.target.closest && event.target.closest(".modal.show"));
  });
  document.addEventListener("show.bs.modal", function (event) {
    var modal = event.target;
    if (modal.hasAttribute("data-reset-on-hide") && modal.dataset.blank === undefined) {
      modal.dataset.blank = modal.querySelector(".modal-content").innerHTML;
    }
  });

  // The Content-Security-Policy forbids style attributes, so sizes the server computes come as
  // data-percent and are set here (script-set styles are allowed), on load and after each swap.
  function applySizes(root) {
    (root || document).querySelectorAll("[data-percent]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, Number(el.dataset.percent) || 0)) + "%";
    });
  }
  document.addEventListener("htmx:load", function (event) { applySizes(event.target.parentNode || document); });
  document.addEventListener("DOMContentLoaded", function () { applySizes(); });

  // Rows with data-href open with Enter too when the row itself has the keyboard focus.
  document.addEventListener("keydown", function (event) {
    var row = event.target.closest && event.target.closest("tr[data-href]");
    if (row && event.target === row && event.key === "Enter") {
      window.location.assign(row.dataset.href);
    }
  });

  // "Go back" buttons (error pages): no inline onclick under the policy.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-history-back]")) { history.back(); }
  });

  document.addEventListener("DOMContentLoaded", function () { showToasts(); });
  document.addEventListener("htmx:afterSettle", function () { showToasts(); });
  // Server-side refusals arrive as an HX-Trigger "rf:toast" event with a message.
  document.addEventListener("rf:toast", function (event) {
    var detail = event.detail || {};
    var data = detail.message ? detail : (detail.value || {});
    toast(data.message || "Done.", data.level || "info");
  });
  // A failed htmx request shows a toast and swaps nothing (see responseHandling below): the
  // server's own words when it sent some (a JSON `detail`, the error page's `data-rf-reason`
  // sentence, a short plain-text answer), else a line for the status.
  function serverReason(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var text = xhr.responseText || "";
    try {
      if (type.indexOf("json") !== -1) {
        var data = JSON.parse(text);
        return data && typeof data.detail === "string" ? data.detail : "";
      }
      if (type.indexOf("text/html") !== -1) {
        var found = new DOMParser().parseFromString(text, "text/html").querySelector("[data-rf-reason]");
        return found ? found.textContent.trim() : "";
      }
      if (type.indexOf("text/plain") !== -1 && text.length <= 300) { return text.trim(); }
    } catch (e) { return ""; }
    return "";
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if ((xhr.getResponseHeader("HX-Trigger") || "").indexOf("rf:toast") !== -1) { return; }
    var status = xhr.status;
    toast(serverReason(xhr) || (status === 403 ? "You do not have permission to do that." :
      status === 404 ? "That item no longer exists or is not yours." :
      "Something went wrong (" + status + "). Nothing was saved; try again."), "danger");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check your connection and try again.", "danger");
  });

  // Forms with errors answer 422 and a stale editor page 409, each with the re-rendered form
  // or editor: swap those in like successes instead of reporting a failure.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409|422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false }
    ];
  }

  window.ResolutionFlow = { copyText: copyText, toast: toast };
})();
