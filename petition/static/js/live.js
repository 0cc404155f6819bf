// Keeps the figures on a petition page current by polling the public JSON API (ETag-aware).
(function () {
  "use strict";
  var section = document.querySelector("[data-live-url]");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-live-url");
  var etag = null;
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function apply(data) {
    var total = section.querySelector('[data-live="total"]');
    if (total) total.textContent = format.format(data.total);
    var bar = section.querySelector('[data-live="total-bar"]');
    if (bar) bar.value = data.total;
    data.countries.forEach(function (c) {
      var row = section.querySelector('tr[data-country="' + c.code + '"]');
      if (!row) return;
      var count = row.querySelector('[data-live="count"]');
      if (count) count.textContent = format.format(c.count);
      var meter = row.querySelector("meter");
      if (meter && c.threshold) meter.value = Math.min(c.count, c.threshold);
      row.classList.toggle("reached", c.reached);
    });
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(url, { headers: headers, cache: "no-cache" })
      .then(function (response) {
        if (response.status === 200) {
          etag = response.headers.get("ETag");
          return response.json().then(apply);
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { setTimeout(poll, document.hidden ? 15000 : 2000); });
  }
  setTimeout(poll, 2000);
})();
