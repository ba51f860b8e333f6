// The "approve on your phone" page (templates/accounts/identity/wait.html): asks the server every few seconds
// whether the request was answered, and once it was, submits the page's own 확인 form, which goes on to the result.
(function () {
  "use strict";
  var box = document.querySelector("[data-identity-wait]");
  if (!box) {
    return;
  }
  var form = document.querySelector("[data-testid=identity-check-form]");
  var problem = box.querySelector("[data-identity-problem]");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 3000;

  function poll() {
    fetch(box.getAttribute("data-poll-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { pending: true, problem: "" };
      })
      .then(function (answer) {
        problem.textContent = answer.problem || "";
        if (answer.pending) {
          window.setTimeout(poll, interval);
        } else {
          form.submit();
        }
      })
      .catch(function () {
        window.setTimeout(poll, interval);
      });
  }
  window.setTimeout(poll, interval);
})();
