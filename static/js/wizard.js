/* Claim wizard niceties. Every page works without this file; it only hides what does not apply. */
(function () {
  "use strict";

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

  // Step 2: the business fields only for sole proprietors and companies.
  var claimantForm = document.querySelector("form[data-claimant-form]");
  if (claimantForm) {
    var business = claimantForm.querySelector("[data-business-fields]");
    var updateBusiness = function () {
      var checked = claimantForm.querySelector("input[data-claimant-type]:checked");
      business.hidden = !checked || checked.value === "individual";
    };
    each(claimantForm.querySelectorAll("input[data-claimant-type]"), function (radio) {
      radio.addEventListener("change", updateBusiness);
    });
    updateBusiness();
  }

  // Step 3: each loss item shows the figures of its kind only.
  each(document.querySelectorAll("[data-loss-item]"), function (item) {
    var select = item.querySelector("select[data-loss-kind]");
    if (!select) { return; }
    var update = function () {
      each(item.querySelectorAll("[data-kind-fields]"), function (group) {
        var kinds = group.getAttribute("data-kind-fields").split(" ");
        group.hidden = kinds.indexOf(select.value) === -1;
      });
    };
    select.addEventListener("change", update);
    update();
  });

  // Choosing another incident reloads the list of its services.
  each(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    var button = select.form.querySelector("[data-autosubmit-button]");
    if (button) { button.hidden = true; }
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // A second tap on "submit" while the first is on its way does nothing (the server is idempotent anyway).
  each(document.querySelectorAll("form[data-submit-once]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitting")) { event.preventDefault(); return; }
      form.setAttribute("data-submitting", "1");
    });
  });
})();
