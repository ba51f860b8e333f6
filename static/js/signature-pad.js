/*
 * The drawn signature (power of attorney, 선정서): npm `signature_pad` (served as vendor/signature_pad/) draws with
 * a finger, pen or mouse; each finished stroke is written as an 800x320 PNG data URL into the hidden input named by
 * data-input. A "clear" button starts over; a drawing sent back after a failed submission is shown again.
 * Also shows only the panel (drawn / typed) matching the chosen signature method.
 * No inline script: loaded as a static file (strict CSP).
 */
(function () {
  "use strict";

  var EXPORT_WIDTH = 800;
  var EXPORT_HEIGHT = 320;

  function initPad(root) {
    var canvas = root.querySelector("canvas");
    var input = document.getElementById(root.getAttribute("data-input"));
    var clearButton = root.querySelector("[data-signature-clear]");
    var status = root.querySelector("[data-signature-status]");
    var emptyText = status ? status.textContent : "";
    var signedText = root.getAttribute("data-signed-text") || "";
    var pad = new window.SignaturePad(canvas, { penColor: "#111", minWidth: 1.5, maxWidth: 3.5 });

    function save() {
      if (pad.isEmpty()) {
        input.value = "";
      } else {
        var output = document.createElement("canvas");
        output.width = EXPORT_WIDTH;
        output.height = EXPORT_HEIGHT;
        output.getContext("2d").drawImage(canvas, 0, 0, EXPORT_WIDTH, EXPORT_HEIGHT);
        input.value = output.toDataURL("image/png");
      }
      root.classList.toggle("is-signed", !pad.isEmpty());
      if (status) {
        status.textContent = pad.isEmpty() ? emptyText : signedText;
      }
    }

    // The canvas is drawn at the screen's pixel density; a resize (or the panel shown) redraws the strokes.
    function resize() {
      var rect = canvas.getBoundingClientRect();
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var width = Math.max(1, Math.round(rect.width * ratio));
      var height = Math.max(1, Math.round(rect.height * ratio));
      if (canvas.width === width && canvas.height === height) {
        return;
      }
      var strokes = pad.toData();
      var image = pad.isEmpty() ? "" : input.value;
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (strokes.length) {
        pad.fromData(strokes);
      } else if (image) {
        pad.fromDataURL(image, { width: rect.width, height: rect.height });
      }
    }

    pad.addEventListener("endStroke", save);
    clearButton.addEventListener("click", function () {
      pad.clear();
      save();
    });
    window.addEventListener("resize", resize);
    resize();

    if (input.value.indexOf("data:image/png;base64,") === 0) {
      var rect = canvas.getBoundingClientRect();
      pad.fromDataURL(input.value, { width: rect.width, height: rect.height }).then(save);
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
