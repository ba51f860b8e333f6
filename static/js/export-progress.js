/* Export progress page (admin): polls the job's progress URL and updates the bar; reloads once the job has
   finished so the download button (or the error) appears. Without JavaScript the page refreshes itself. */
(function () {
  "use strict";

  var page = document.querySelector("[data-export-progress-url]");
  if (!page || !window.fetch) {
    return;
  }
  var url = page.getAttribute("data-export-progress-url");
  var bar = page.querySelector("progress");
  var text = page.querySelector("[data-export-progress-text]");
  var status = page.querySelector("[data-export-status]");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "ko");

  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    text.textContent = numbers.format(data.done) + " / " + numbers.format(data.total) + " (" + data.percent + "%)";
    status.textContent = data.status_label;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
