/*
 * Signature pad for the power of attorney: draw with a finger, pen or mouse (pointer events), the drawing is
 * written as a PNG data URL into the hidden input named by data-input. A "clear" button starts over.
 * Also shows only the panel (drawn / typed) matching the chosen signature method.
 * No inline script: loaded as a static file (strict CSP).
 */
(function () {
  "use strict";

  var EXPORT_WIDTH = 800;
  var EXPORT_HEIGHT = 320;
  var LINE_WIDTH_RATIO = 0.008; // of the drawing width

  function initPad(root) {
    var canvas = root.querySelector("canvas");
    var input = document.getElementById(root.getAttribute("data-input"));
    var clearButton = root.querySelector("[data-signature-clear]");
    var status = root.querySelector("[data-signature-status]");
    var emptyText = status ? status.textContent : "";
    var signedText = root.getAttribute("data-signed-text") || "";
    var strokes = []; // each stroke: array of {x, y} in 0..1 of the pad
    var current = null;
    var restored = null; // an image restored from the hidden input after a failed submit

    function paint(context, width, height) {
      context.clearRect(0, 0, width, height);
      if (restored) {
        context.drawImage(restored, 0, 0, width, height);
      }
      context.strokeStyle = "#111";
      context.fillStyle = "#111";
      context.lineWidth = Math.max(2, width * LINE_WIDTH_RATIO);
      context.lineCap = "round";
      context.lineJoin = "round";
      strokes.forEach(function (stroke) {
        if (stroke.length === 1) {
          context.beginPath();
          context.arc(stroke[0].x * width, stroke[0].y * height, context.lineWidth / 2, 0, 2 * Math.PI);
          context.fill();
          return;
        }
        context.beginPath();
        context.moveTo(stroke[0].x * width, stroke[0].y * height);
        for (var i = 1; i < stroke.length; i += 1) {
          context.lineTo(stroke[i].x * width, stroke[i].y * height);
        }
        context.stroke();
      });
    }

    function redraw() {
      paint(canvas.getContext("2d"), canvas.width, canvas.height);
    }

    function resize() {
      var rect = canvas.getBoundingClientRect();
      var ratio = window.devicePixelRatio || 1;
      var width = Math.max(1, Math.round(rect.width * ratio));
      var height = Math.max(1, Math.round(rect.height * ratio));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
        redraw();
      }
    }

    function isEmpty() {
      return strokes.length === 0 && !restored;
    }

    function save() {
      if (isEmpty()) {
        input.value = "";
      } else {
        var output = document.createElement("canvas");
        output.width = EXPORT_WIDTH;
        output.height = EXPORT_HEIGHT;
        paint(output.getContext("2d"), EXPORT_WIDTH, EXPORT_HEIGHT);
        input.value = output.toDataURL("image/png");
      }
      root.classList.toggle("is-signed", !isEmpty());
      if (status) {
        status.textContent = isEmpty() ? emptyText : signedText;
      }
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)),
        y: Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height)),
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) {
        return;
      }
      event.preventDefault();
      if (canvas.setPointerCapture) {
        canvas.setPointerCapture(event.pointerId);
      }
      current = [point(event)];
      strokes.push(current);
      redraw();
    });

    canvas.addEventListener("pointermove", function (event) {
      if (!current) {
        return;
      }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      if (events.length === 0) {
        events = [event];
      }
      events.forEach(function (each) {
        current.push(point(each));
      });
      redraw();
    });

    function finish() {
      if (current) {
        current = null;
        save();
      }
    }

    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("lostpointercapture", finish);

    clearButton.addEventListener("click", function () {
      strokes = [];
      current = null;
      restored = null;
      redraw();
      save();
    });

    window.addEventListener("resize", resize);
    resize();

    if (input.value.indexOf("data:image/png;base64,") === 0) {
      var image = new Image();
      image.addEventListener("load", function () {
        restored = image;
        redraw();
        save();
      });
      image.src = input.value;
    }
  }

  function initMethodPanels() {
    var radios = document.querySelectorAll('input[type="radio"][name="method"]');
    var panels = document.querySelectorAll("[data-method-panel]");
    if (radios.length === 0 || panels.length === 0) {
      return;
    }
    function show() {
      var chosen = document.querySelector('input[type="radio"][name="method"]:checked');
      var value = chosen ? chosen.value : "drawn";
      panels.forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-method-panel") !== value;
      });
      window.dispatchEvent(new Event("resize"));
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", show);
    });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature-pad]").forEach(initPad);
    initMethodPanels();
  });
})();
