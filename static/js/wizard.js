/* Claim wizard niceties. Every page works without this file; it only hides what does not apply. */
(function () {
  "use strict";

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

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

  // Step 3: what is typed in a loss item survives a reload or a browser restart until it is saved. Each item's
  // fields are kept in this browser's localStorage under "loss-draft:<claim>:<service>:<item id or new>", written
  // as they change and removed when the form is sent (the server then holds them, or shows them back with errors).
  var lossForm = document.querySelector("form[data-loss-formset]");
  var storage = null;
  try { storage = window.localStorage; } catch (error) { storage = null; }
  if (lossForm && storage) {
    var draftFields = function (item) {
      return item.querySelectorAll("input[type=text], input[type=number], input:not([type]), textarea, select");
    };
    var fieldKey = function (field) { return field.name.replace(/^form-\d+-/, ""); };
    var restored = false;
    each(lossForm.querySelectorAll("[data-draft-key]"), function (item) {
      var key = item.getAttribute("data-draft-key");
      var saved = null;
      try { saved = JSON.parse(storage.getItem(key) || "null"); } catch (error) { saved = null; }
      if (saved) {
        each(draftFields(item), function (field) {
          var name = fieldKey(field);
          if (Object.prototype.hasOwnProperty.call(saved, name) && field.value !== saved[name]) {
            field.value = saved[name];
            field.dispatchEvent(new Event("change"));
            restored = true;
          }
        });
      }
      var save = function () {
        var values = {};
        each(draftFields(item), function (field) { values[fieldKey(field)] = field.value; });
        try { storage.setItem(key, JSON.stringify(values)); } catch (error) { /* storage full or refused */ }
      };
      item.addEventListener("input", save);
      item.addEventListener("change", save);
    });
    var notice = lossForm.querySelector("[data-draft-restored]");
    if (notice && restored) { notice.hidden = false; }
    lossForm.addEventListener("submit", function () {
      each(lossForm.querySelectorAll("[data-draft-key]"), function (item) {
        storage.removeItem(item.getAttribute("data-draft-key"));
      });
    });
  }

  // A second tap on "submit" while the first is on its way does nothing (the server is idempotent anyway).
  each(document.querySelectorAll("form[data-submit-once]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitting")) { event.preventDefault(); return; }
      form.setAttribute("data-submitting", "1");
    });
  });
})();
