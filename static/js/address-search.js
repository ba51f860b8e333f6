// The profile's road-name address search (templates/accounts/_address_search.html): 검색 asks the JSON endpoint
// and lists the results in place; 선택 fills 주소 and 우편번호 and moves the cursor to 상세주소. Without this script
// the same buttons submit the form and the server does the same (accounts/views/profile.py).
(function () {
  "use strict";
  var box = document.querySelector("[data-address-search]");
  if (!box) {
    return;
  }
  var query = box.querySelector("#id_address_query");
  var results = box.querySelector("[data-address-results]");
  var searchButton = box.querySelector("[data-address-search-button]");

  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) {
      element.className = className;
    }
    element.textContent = content;
    return element;
  }

  function pickButton(address) {
    var button = text("button", "btn btn-outline-secondary address-pick", searchButton.getAttribute("data-pick-label"));
    button.type = "button";
    button.value = address.postal_code + "|" + address.road_address;
    button.appendChild(text("span", "visually-hidden", " " + address.road_address));
    return button;
  }

  function show(answer) {
    results.replaceChildren();
    if (answer.error) {
      var problem = text("p", "text-danger mb-0", answer.error);
      problem.setAttribute("data-testid", "address-search-problem");
      results.appendChild(problem);
      return;
    }
    var total = text("p", "mb-2", searchButton.getAttribute("data-total-label").replace("%(total)s", answer.total));
    total.setAttribute("data-testid", "address-results-total");
    if (answer.sandbox) {
      total.appendChild(document.createTextNode(" "));
      var badge = text("span", "badge text-bg-warning", "SANDBOX");
      badge.setAttribute("data-testid", "address-sandbox");
      total.appendChild(badge);
    }
    results.appendChild(total);
    var list = text("ul", "list-unstyled mb-0", "");
    answer.results.forEach(function (address) {
      var item = text("li", "border-top py-2 d-flex gap-2 align-items-center", "");
      var label = text("span", "flex-grow-1", "");
      label.appendChild(text("span", "d-block", address.road_address));
      label.appendChild(text("small", "text-body-secondary d-block", address.postal_code + " · " + address.jibun_address));
      item.appendChild(label);
      item.appendChild(pickButton(address));
      list.appendChild(item);
    });
    results.appendChild(list);
  }

  function search() {
    var url = box.getAttribute("data-url") + "?" + new URLSearchParams({ q: query.value });
    searchButton.disabled = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(show)
      .catch(function () {
        show({ error: searchButton.getAttribute("data-offline-label") });
      })
      .finally(function () {
        searchButton.disabled = false;
      });
  }

  function pick(button) {
    var value = button.value;
    var separator = value.indexOf("|");
    document.getElementById("id_postal_code").value = value.slice(0, separator);
    document.getElementById("id_address").value = value.slice(separator + 1);
    results.replaceChildren(text("p", "mb-0", searchButton.getAttribute("data-picked-label")));
    document.getElementById("id_address_detail").focus();
  }

  searchButton.addEventListener("click", function (event) {
    event.preventDefault();
    search();
  });
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });
  results.addEventListener("click", function (event) {
    var button = event.target.closest(".address-pick");
    if (button) {
      event.preventDefault();
      pick(button);
    }
  });
})();
