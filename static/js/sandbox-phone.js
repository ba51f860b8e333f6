// The sandbox's phone page (templates/integrations/identity/phone.html): 승인 or 거절 is posted in the background
// and the answer shown in place, as the real app does, so the "phone" needs no second page load. Without
// JavaScript (or if the request fails) the form posts as usual and the page reloads with the answer.
(function () {
  "use strict";
  var form = document.querySelector("[data-sandbox-answer]");
  if (!form || !window.fetch) {
    return;
  }
  var state = document.querySelector("[data-testid=state]");
  var answered = document.querySelector("[data-sandbox-answered]");
  var problem = document.querySelector("[data-sandbox-problem]");

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button) {
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    data.set("decision", button.value);
    form.querySelectorAll("button").forEach(function (each) {
      each.disabled = true;
    });
    fetch(window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (answer) {
        state.textContent = answer.state_label;
        if (answer.problem) {
          problem.textContent = answer.problem;
          problem.hidden = false;
        } else {
          answered.hidden = false;
        }
        form.remove();
      })
      .catch(function () {
        var decision = document.createElement("input");
        decision.type = "hidden";
        decision.name = "decision";
        decision.value = button.value;
        form.appendChild(decision);
        form.submit(); // the ordinary post, which reloads the page with the answer
      });
  });
})();
