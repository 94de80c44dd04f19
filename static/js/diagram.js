/* Flow diagrams (templates/flows/_flow_diagram.html): pan by dragging, zoom with the wheel,
   the +/− buttons, pinch or the +/- keys, "Fit" to see it whole, and move between nodes with
   the arrow keys (one node is in the tab order at a time). Only the SVG's viewBox changes, so
   the server's drawing stays as it is. The Diagram/Outline switch of the flow page lives here
   too. Pages hook in through events: "rf:diagram-activate" (Enter or a click on a node) and
   "rf:diagram-add" (the + of a node in the editor). */
(function () {
  "use strict";

  var MIN_WIDTH = 160; // the closest zoom shows about this many SVG units across
  var MOVES = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"];
  var views = {}; // the last viewBox per diagram id: kept when htmx redraws the diagram

  function numbers(svg, name) { return Number(svg.dataset[name]) || 0; }

  function Diagram(root) {
    this.root = root;
    this.svg = root.querySelector("svg");
    this.viewport = root.querySelector(".flow-diagram-viewport");
    this.scaleLabel = root.querySelector("[data-diagram-scale]");
    this.full = {
      x: numbers(this.svg, "left"), y: numbers(this.svg, "top"),
      w: Math.max(1, numbers(this.svg, "width")), h: Math.max(1, numbers(this.svg, "height"))
    };
    this.nodes = Array.prototype.slice.call(root.querySelectorAll(".fd-node"));
    this.byId = {};
    var self = this;
    this.nodes.forEach(function (node) { self.byId[node.dataset.node] = node; });
    this.size();
    var saved = views[root.id];
    if (saved && saved.full === this.full.w + "x" + this.full.h) { this.set(saved.box); } else { this.fit(); }
    // The runner keeps its zoom from answer to answer; the node it moved to is brought into view.
    var current = this.byId[root.dataset.focus];
    if (root.dataset.mode === "run" && current) { this.reveal(current); }
    this.listen();
  }

  // The viewport is as tall as the drawing needs at up to 100% (a small tree gets a small
  // box, a wide one no empty band above and below), between 14rem and 65% of the window.
  Diagram.prototype.size = function () {
    var width = this.viewport.clientWidth || 1;
    var scale = Math.min(1, width / (this.full.w + 16));
    var wanted = (this.full.h + 16) * scale;
    this.viewport.style.height = Math.round(Math.max(224, Math.min(window.innerHeight * 0.65, wanted))) + "px";
  };

  Diagram.prototype.aspect = function () {
    var rect = this.viewport.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0 ? rect.width / rect.height : 16 / 9;
  };

  // The viewBox keeps the viewport's proportions, so a unit is as wide as it is tall.
  Diagram.prototype.set = function (box) {
    var aspect = this.aspect();
    var w = Math.max(MIN_WIDTH, Math.min(box.w, Math.max(this.full.w, this.full.h * aspect) * 3));
    var h = w / aspect;
    var cx = box.x + box.w / 2, cy = box.y + box.h / 2;
    this.box = { x: cx - w / 2, y: cy - h / 2, w: w, h: h };
    this.svg.setAttribute("viewBox", [this.box.x, this.box.y, this.box.w, this.box.h].map(function (n) { return n.toFixed(1); }).join(" "));
    views[this.root.id] = { box: this.box, full: this.full.w + "x" + this.full.h };
    if (this.scaleLabel) {
      var shown = this.viewport.getBoundingClientRect().width || this.box.w;
      this.scaleLabel.textContent = Math.round(shown / this.box.w * 100) + "%";
    }
  };

  Diagram.prototype.fit = function () {
    var pad = 8, aspect = this.aspect();
    var pixels = this.viewport.getBoundingClientRect().width || 0;
    // Never larger than 100%: a three-node flow is not blown up to fill the box.
    var w = Math.max(this.full.w + pad * 2, (this.full.h + pad * 2) * aspect, pixels);
    this.set({ x: this.full.x + this.full.w / 2 - w / 2, y: this.full.y + this.full.h / 2 - w / aspect / 2, w: w, h: w / aspect });
  };

  // Zoom by `factor` (< 1 zooms in) keeping the SVG point (px, py) where it is on screen.
  Diagram.prototype.zoom = function (factor, px, py) {
    var b = this.box;
    if (px === undefined) { px = b.x + b.w / 2; py = b.y + b.h / 2; }
    var w = b.w * factor, h = b.h * factor;
    this.set({ x: px - (px - b.x) * factor, y: py - (py - b.y) * factor, w: w, h: h });
  };

  Diagram.prototype.toSvg = function (clientX, clientY) {
    var rect = this.viewport.getBoundingClientRect();
    return {
      x: this.box.x + (clientX - rect.left) / rect.width * this.box.w,
      y: this.box.y + (clientY - rect.top) / rect.height * this.box.h
    };
  };

  // Bring a node into view (centred) when the keyboard reaches it outside the visible part.
  Diagram.prototype.reveal = function (node) {
    var rect = node.querySelector("rect");
    var x = Number(rect.getAttribute("x")), y = Number(rect.getAttribute("y"));
    var w = Number(rect.getAttribute("width")), h = Number(rect.getAttribute("height"));
    var b = this.box;
    if (x >= b.x && y >= b.y && x + w <= b.x + b.w && y + h <= b.y + b.h) { return; }
    var width = b.w < w * 1.5 ? w * 3 : b.w;
    this.set({ x: x + w / 2 - width / 2, y: y + h / 2 - b.h / 2, w: width, h: b.h });
  };

  Diagram.prototype.focusNode = function (node) {
    if (!node) { return; }
    this.nodes.forEach(function (other) { other.setAttribute("tabindex", other === node ? "0" : "-1"); });
    node.focus({ preventScroll: true });
    this.reveal(node);
  };

  Diagram.prototype.children = function (id) {
    return this.nodes.filter(function (node) { return node.dataset.parent === id; });
  };

  Diagram.prototype.neighbour = function (node, key) {
    if (key === "ArrowUp") { return this.byId[node.dataset.parent]; }
    if (key === "ArrowDown") { return this.children(node.dataset.node)[0]; }
    if (key === "Home") { return this.nodes[0]; }
    if (key === "End") { return this.nodes[this.nodes.length - 1]; }
    var siblings = node.dataset.parent ? this.children(node.dataset.parent) : [node];
    var at = siblings.indexOf(node);
    if (key === "ArrowLeft") { return siblings[at - 1]; }
    if (key === "ArrowRight") { return siblings[at + 1]; }
    return null;
  };

  Diagram.prototype.activate = function (node) {
    this.root.dispatchEvent(new CustomEvent("rf:diagram-activate", { bubbles: true, detail: { id: node.dataset.node, mode: this.root.dataset.mode } }));
  };

  Diagram.prototype.add = function (id) {
    this.root.dispatchEvent(new CustomEvent("rf:diagram-add", { bubbles: true, detail: { id: id } }));
  };

  Diagram.prototype.listen = function () {
    var self = this, svg = this.svg, pointers = {}, drag = null, pinch = null, moved = 0;

    this.root.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (button && button.hasAttribute("data-diagram-fit")) { self.fit(); return; }
      if (button && button.dataset.diagramZoom) { self.zoom(button.dataset.diagramZoom === "in" ? 0.8 : 1.25); return; }
      if (moved > 4) { return; } // the end of a drag, not a click
      var add = event.target.closest(".fd-add");
      if (add) { self.add(add.dataset.add); return; }
      var node = event.target.closest(".fd-node");
      if (node) { self.focusNode(node); self.activate(node); }
    });

    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var at = self.toSvg(event.clientX, event.clientY);
      self.zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, at.x, at.y);
    }, { passive: false });

    svg.addEventListener("pointerdown", function (event) {
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      var ids = Object.keys(pointers);
      moved = 0;
      if (ids.length === 1) {
        drag = { x: event.clientX, y: event.clientY, box: self.box };
      } else if (ids.length === 2) {
        var a = pointers[ids[0]], b = pointers[ids[1]];
        pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, box: self.box };
        drag = null;
      }
    });
    svg.addEventListener("pointermove", function (event) {
      if (!pointers[event.pointerId]) { return; }
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      var rect = self.viewport.getBoundingClientRect();
      if (pinch) {
        var ids = Object.keys(pointers), a = pointers[ids[0]], b = pointers[ids[1]];
        if (!a || !b) { return; }
        var factor = pinch.distance / (Math.hypot(a.x - b.x, a.y - b.y) || 1);
        self.box = pinch.box;
        self.zoom(factor);
        moved = 99;
        return;
      }
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      moved = Math.max(moved, Math.abs(dx) + Math.abs(dy));
      if (moved <= 4) { return; }
      if (!svg.hasPointerCapture(event.pointerId)) { svg.setPointerCapture(event.pointerId); }
      self.root.classList.add("is-panning");
      self.set({
        x: drag.box.x - dx / rect.width * drag.box.w,
        y: drag.box.y - dy / rect.height * drag.box.h,
        w: drag.box.w, h: drag.box.h
      });
    });
    function release(event) {
      delete pointers[event.pointerId];
      if (Object.keys(pointers).length < 2) { pinch = null; }
      if (!Object.keys(pointers).length) { drag = null; self.root.classList.remove("is-panning"); }
    }
    svg.addEventListener("pointerup", release);
    svg.addEventListener("pointercancel", release);

    this.root.addEventListener("keydown", function (event) {
      var node = event.target.closest && event.target.closest(".fd-node");
      if (event.key === "+" || event.key === "=") { self.zoom(0.8); event.preventDefault(); return; }
      if (event.key === "-" || event.key === "_") { self.zoom(1.25); event.preventDefault(); return; }
      if (!node) { return; }
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); self.activate(node); return; }
      if ((event.key === "a" || event.key === "A") && self.root.dataset.mode === "edit" && node.nextElementSibling && node.nextElementSibling.matches(".fd-add")) {
        event.preventDefault();
        self.add(node.dataset.node);
        return;
      }
      if (MOVES.indexOf(event.key) === -1) { return; }
      event.preventDefault();
      self.focusNode(self.neighbour(node, event.key));
    });
  };

  function setUp(scope) {
    (scope || document).querySelectorAll("[data-diagram]").forEach(function (root) {
      if (!root.rfDiagram && root.offsetParent !== null) { root.rfDiagram = new Diagram(root); }
    });
  }

  // --- the flow page: Diagram / Outline ----------------------------------------------------
  var VIEW_KEY = "rf-flow-view";
  function showView(name, remember) {
    document.querySelectorAll("[data-view-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.viewToggle === name ? "true" : "false");
      button.classList.toggle("active", button.dataset.viewToggle === name);
    });
    document.querySelectorAll("[data-view]").forEach(function (panel) {
      panel.hidden = panel.dataset.view !== name;
    });
    if (remember) { try { localStorage.setItem(VIEW_KEY, name); } catch (e) { /* private mode */ } }
    setUp();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-view-toggle]");
    if (button) { showView(button.dataset.viewToggle, true); }
  });

  // Flow page: a node's Enter shows it in the outline, the accessible text version.
  document.addEventListener("rf:diagram-activate", function (event) {
    if (event.detail.mode !== "view") { return; }
    var row = document.getElementById("node-" + event.detail.id);
    if (!row) { return; }
    showView("outline", false);
    row.setAttribute("tabindex", "-1");
    row.scrollIntoView({ block: "center" });
    row.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-view-toggle]")) {
      var stored = null;
      try { stored = localStorage.getItem(VIEW_KEY); } catch (e) { stored = null; }
      showView(stored === "diagram" ? "diagram" : "outline", false);
    }
    setUp();
  });
  // A diagram inside a closed <details> is set up when it is opened ("toggle" does not bubble).
  document.addEventListener("toggle", function (event) { if (event.target.open) { setUp(event.target); } }, true);
  document.addEventListener("htmx:load", function (event) { setUp(event.target.parentNode || document); });
  // A diagram drawn while hidden (or in a resized window) is fitted again once it can be measured.
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-diagram]").forEach(function (root) {
      if (root.rfDiagram) { root.rfDiagram.size(); root.rfDiagram.set(root.rfDiagram.box); } else { setUp(root.parentNode); }
    });
  });

  window.ResolutionFlowDiagram = { setUp: setUp };
})();
