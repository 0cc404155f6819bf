// Follows an update while it goes out: asks for its figures every two seconds and writes them into
// the page, until it is sent.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-url");
  var format = new Intl.NumberFormat("en");

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (figures) {
        Object.keys(figures).forEach(function (name) {
          var cell = box.querySelector('[data-figure="' + name + '"]');
          if (cell && typeof figures[name] === "number") cell.textContent = format.format(figures[name]);
        });
        var status = document.querySelector("[data-update-status]");
        if (status) status.textContent = figures.status;
        if (figures.status !== "sent") window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 10000);
      });
  }

  window.setTimeout(poll, 2000);
})();
