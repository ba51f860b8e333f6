/* Evidence uploads with progress: each chosen file goes in its own request (XMLHttpRequest), so one failure
   never loses the others, and a failed file can be sent again. Without JavaScript the form posts one file. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-evidence-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = form.querySelector("input[type=file]");
  var queue = form.querySelector("[data-upload-queue]");
  var list = document.querySelector("[data-evidence-list]");
  var template = document.querySelector("template[data-upload-item-template]");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);

  function text(name) {
    var node = document.querySelector("[data-upload-text-" + name + "]");
    return node ? node.textContent : "";
  }

  input.multiple = true;
  Array.prototype.forEach.call(form.querySelectorAll(".js-only"), function (node) { node.hidden = false; });

  // The form's other fields (CSRF token, tag, loss item, information request) as they are now.
  function fieldsNow() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name && element.type !== "file" && element.type !== "submit") {
        fields.push([element.name, element.value]);
      }
    });
    return fields;
  }

  // The count of files and the "still missing" warnings, rendered again by the server after each upload.
  function applyState(state) {
    if (!state) { return; }
    Object.keys(state).forEach(function (region) {
      var node = document.querySelector("[data-evidence-state=" + region + "]");
      if (node) { node.outerHTML = state[region]; }
    });
  }

  function newItem(file) {
    var item = template.content.firstElementChild.cloneNode(true);
    item.querySelector("[data-upload-name]").textContent = file.name;
    queue.appendChild(item);
    return item;
  }

  function upload(file, fields, item) {
    var progress = item.querySelector("[data-upload-progress]");
    var status = item.querySelector("[data-upload-status]");
    var retry = item.querySelector("[data-upload-retry]");
    var fail = function (message, canRetry) {
      // A refused or failed file is not "sent": its bar goes, its state and reason stay.
      progress.hidden = true;
      progress.value = 0;
      item.setAttribute("data-upload-state", canRetry ? "failed" : "rejected");
      var prefix = canRetry ? text("failed") : text("rejected");
      status.textContent = message === prefix ? message : prefix + " " + message;
      status.className = "d-block small text-danger";
      item.classList.add("border-danger");
      retry.hidden = !canRetry;
      if (canRetry) {
        retry.onclick = function () { upload(file, fields, item); };
      }
    };
    retry.hidden = true;
    item.classList.remove("border-danger");
    item.setAttribute("data-upload-state", "sending");
    status.className = "d-block small";
    progress.hidden = false;
    progress.value = 0;
    if (file.size > maxBytes) {
      fail(form.getAttribute("data-too-large"), false);
      return;
    }
    status.textContent = text("uploading");
    var data = new FormData();
    fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { progress.value = Math.round((event.loaded * 100) / event.total); }
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (error) { body = null; }
      if (xhr.status === 201 && body && body.ok) {
        progress.value = 100;
        status.textContent = text("done");
        status.className = "d-block small text-success";
        var empty = list && list.querySelector("[data-evidence-empty]");
        if (empty) { empty.remove(); }
        if (list) { list.insertAdjacentHTML("beforeend", body.html); }
        item.setAttribute("data-upload-state", "done");
        applyState(body.state);
        return;
      }
      // A refusal (wrong type, too large) explains itself; a server hiccup can be retried.
      fail((body && body.error) || text("failed"), !body || xhr.status >= 500);
    };
    xhr.onerror = function () { fail(text("network"), true); };
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var tag = form.querySelector("[name=tag]");
    if (tag && !tag.value) {
      tag.setCustomValidity(text("pick-tag"));
      tag.reportValidity();
      tag.addEventListener("change", function () { tag.setCustomValidity(""); }, { once: true });
      return;
    }
    if (!input.files.length) { input.focus(); return; }
    var fields = fieldsNow();
    Array.prototype.forEach.call(input.files, function (file) { upload(file, fields, newItem(file)); });
    input.value = "";
  });
})();
