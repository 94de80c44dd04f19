/* The checklist runner: focus mode (one step large, the list as a side rail), its keyboard
   shortcuts, and ticks that show a pending state and roll back if the server refuses them. */
(function () {
  "use strict";

  var MODE_KEY = "rf-runner-mode";

  function runner() { return document.getElementById("runner"); }
  function steps() { return Array.prototype.slice.call(document.querySelectorAll("#checklist .step-row")); }
  function isFocusMode() { var r = runner(); return !!r && r.classList.contains("focus-mode"); }
  function current() { return document.querySelector("#checklist .step-row.is-focused"); }

  // The place: the URL's ?step=, else the first step not yet done, else the last step.
  function initialStep() {
    var wanted = runner().dataset.focus;
    var rows = steps();
    var found = rows.filter(function (row) { return row.dataset.stepId === wanted; })[0];
    if (found) { return found; }
    var open = rows.filter(function (row) {
      var box = row.querySelector(".tick-box");
      return box && !box.checked;
    })[0];
    return open || rows[rows.length - 1] || null;
  }

  function remember() {
    var url = new URL(window.location.href);
    var row = current();
    if (isFocusMode()) {
      url.searchParams.set("view", "focus");
      if (row) { url.searchParams.set("step", row.dataset.stepId); }
    } else {
      url.searchParams.delete("view");
      url.searchParams.delete("step");
    }
    window.history.replaceState(window.history.state, "", url);
  }

  function focusStep(row, announce) {
    if (!row) { return; }
    steps().forEach(function (other) { other.classList.toggle("is-focused", other === row); });
    runner().dataset.focus = row.dataset.stepId;
    document.querySelectorAll(".rail-step").forEach(function (link) {
      var on = link.dataset.railFor === row.dataset.stepId;
      link.classList.toggle("active", on);
      if (on) { link.setAttribute("aria-current", "step"); } else { link.removeAttribute("aria-current"); }
    });
    if (isFocusMode()) {
      remember();
      if (announce) {
        var label = row.querySelector("label.fw-semibold");
        document.getElementById("focus-announce").textContent = label ? label.textContent.trim() : "";
        row.scrollIntoView({ block: "nearest" });
      }
    }
  }

  function move(delta) {
    var rows = steps();
    var index = rows.indexOf(current());
    var next = rows[Math.max(0, Math.min(rows.length - 1, index + delta))];
    focusStep(next, true);
    if (next) { next.querySelector(".tick-box").focus({ preventScroll: true }); }
  }

  function setMode(focus) {
    var r = runner();
    r.classList.toggle("focus-mode", focus);
    r.querySelectorAll("[data-view]").forEach(function (link) {
      link.setAttribute("aria-pressed", String((link.dataset.view === "focus") === focus));
    });
    try { localStorage.setItem(MODE_KEY, focus ? "focus" : "list"); } catch (e) { /* private mode */ }
    focusStep(current() || initialStep(), false);
    remember();
  }

  // After a tick or any re-render, the focused step and the rail follow the server's state.
  function refresh() {
    if (!runner()) { return; }
    var wanted = runner().dataset.focus;
    var row = steps().filter(function (r) { return r.dataset.stepId === wanted; })[0];
    focusStep(row || initialStep(), false);
    steps().forEach(function (r) {
      var box = r.querySelector(".tick-box");
      var link = document.querySelector('.rail-step[data-rail-for="' + r.dataset.stepId + '"]');
      if (!box || !link) { return; }
      link.classList.toggle("is-done", box.checked);
      var icon = link.querySelector(".bi");
      icon.className = "bi " + (box.checked ? "bi-check-circle-fill text-success" : "bi-circle");
      var state = link.querySelector(".visually-hidden");
      if (state) { state.textContent = box.checked ? "Done: " : "To do: "; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!runner()) { return; }
    var params = new URLSearchParams(window.location.search);
    var stored = null;
    try { stored = localStorage.getItem(MODE_KEY); } catch (e) { stored = null; }
    if (!params.has("view") && stored === "focus") { runner().classList.add("focus-mode"); }
    focusStep(initialStep(), false);
    if (isFocusMode()) { setMode(true); }
  });
  document.addEventListener("htmx:afterSettle", refresh);

  document.addEventListener("click", function (event) {
    var view = event.target.closest("#runner [data-view]");
    if (view) {
      event.preventDefault();
      setMode(view.dataset.view === "focus");
      return;
    }
    if (event.target.closest("#focus-next")) { move(1); return; }
    if (event.target.closest("#focus-prev")) { move(-1); return; }
    var rail = event.target.closest(".rail-step");
    if (rail && isFocusMode()) {
      event.preventDefault();
      var row = document.getElementById("step-" + rail.dataset.railFor);
      focusStep(row, true);
    }
  });
  // Clicking into a step (its text, note or commands) makes it the current one.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("#checklist .step-row");
    if (row && row !== current()) { focusStep(row, false); }
  });

  function typing(target) {
    return target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]");
  }
  document.addEventListener("keydown", function (event) {
    if (!runner() || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && event.target.matches("#checklist textarea")) {
      event.target.blur();
      var box = current() && current().querySelector(".tick-box");
      if (box) { box.focus(); }
      return;
    }
    if (typing(event.target) || document.querySelector(".modal.show")) { return; }
    var row = current();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "x":
        if (row) { var tick = row.querySelector(".tick-box"); if (tick && !tick.disabled) { tick.click(); } }
        break;
      case "n":
        if (row) { var note = row.querySelector("textarea[name=note]"); if (note && !note.disabled) { note.focus(); } }
        break;
      case "f": setMode(!isFocusMode()); break;
      case "?": bootstrap.Modal.getOrCreateInstance(document.getElementById("shortcuts-modal")).show(); break;
      default: return;
    }
    event.preventDefault();
  });

  // Ticks: pending while the server answers; a refusal it could not answer with the step's
  // state (a lost connection, an error page, a stale or forbidden request) rolls the box back.
  // The error toast comes from app.js; a refusal the server answers re-renders the step as it is.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = event.detail.elt;
    if (!box.classList || !box.classList.contains("tick-box")) { return; }
    box.dataset.was = box.checked ? "0" : "1"; // the browser already flipped it
    var row = box.closest(".step-row");
    row.classList.add("tick-pending");
    row.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = event.detail.elt;
    if (!box.classList || !box.classList.contains("tick-box")) { return; }
    var row = box.closest(".step-row");
    if (row) { row.classList.remove("tick-pending"); row.removeAttribute("aria-busy"); }
    if (!event.detail.successful && box.isConnected) { box.checked = box.dataset.was === "1"; }
  });
})();
