/* The feedback under each uploaded file ("이 캡처에서 2022-10-15 15:42가 확인됩니다"): a file still being read
   carries data-finding-url; its feedback is asked for again every few seconds until the reading is done, then
   replaced. Rows added by the uploader are picked up on the next round. Without JavaScript a reload shows it. */
(function () {
  "use strict";

  if (!window.fetch) { return; }
  var ROUND_MS = 3000;
  var MAX_ROUNDS = 60; // three minutes: a file still unread by then is shown on the next visit

  function ask(node) {
    var rounds = parseInt(node.getAttribute("data-finding-rounds") || "0", 10);
    if (rounds >= MAX_ROUNDS) { return; }
    node.setAttribute("data-finding-rounds", String(rounds + 1));
    fetch(node.getAttribute("data-finding-url"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && !body.pending && node.isConnected) { node.outerHTML = body.html; }
      })
      .catch(function () { /* offline for a moment: the next round asks again */ });
  }

  window.setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-finding-url]"), ask);
  }, ROUND_MS);
})();
