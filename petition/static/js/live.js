// Keeps the figures on a petition page current: a live event stream where the browser offers one,
// else (or when the server has no room for another stream) polling the JSON API, ETag-aware.
(function () {
  "use strict";
  var section = document.querySelector("[data-live-url]");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-live-url");
  var eventsUrl = section.getAttribute("data-events-url");
  var etag = null;
  // The server says which CLDR locale its numbers follow (Portugal's for Portuguese, not the bare "pt").
  var locale = section.getAttribute("data-locale") || document.documentElement.lang || undefined;
  var format = new Intl.NumberFormat(locale);
  // The sentence around the total follows the reader's plural rules ("1 podpis", "2 podpisy", "5 podpisów"):
  // the page gives this language's message for each plural category, Intl.PluralRules picks one.
  var totalLine = section.querySelector("[data-plural]");
  var plural = totalLine ? JSON.parse(totalLine.getAttribute("data-plural")) : null;
  var rules = plural && window.Intl && Intl.PluralRules ? new Intl.PluralRules(plural.locale) : null;

  function setTotal(n) {
    var total = section.querySelector('[data-live="total"]');
    var text = format.format(n);
    if (!total || total.textContent === text) return;  // unchanged: nothing for screen readers to announce
    var form = rules ? plural.forms[rules.select(n)] || plural.forms.other : null;
    if (!form || form.indexOf("%(count)s") < 0) { total.textContent = text; return; }
    var parts = form.split("%(count)s");
    var strong = document.createElement("strong");
    strong.setAttribute("data-live", "total");
    strong.textContent = text;
    totalLine.replaceChildren(document.createTextNode(parts[0]), strong, document.createTextNode(parts.slice(1).join("")));
  }

  function apply(data) {
    setTotal(data.total);
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

  function listen() {
    var source = new EventSource(eventsUrl);
    var failures = 0;
    source.onmessage = function (event) {
      failures = 0;
      try { apply(JSON.parse(event.data)); } catch (e) { /* a malformed event: wait for the next */ }
    };
    source.onerror = function () {
      // A stream the server ended is reopened by the browser itself; a refused one (503) is closed.
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= 3) {
        source.close();
        setTimeout(poll, 2000);
      }
    };
  }

  if (eventsUrl && window.EventSource) listen();
  else setTimeout(poll, 2000);
})();
