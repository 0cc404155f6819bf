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

  // Shares are rounded down, as the server writes them: one signature short is never "100 %".
  var percent = [0, 1].map(function (digits) {
    return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });
  });
  function share(count, threshold, digits) {
    var scale = digits ? 1000 : 100;
    return percent[digits].format(Math.floor(count * scale / threshold) / scale);
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  // The colour step of a map tile, at the bounds of petition/charts.py's TILE_STEPS.
  function step(c) {
    if (!c.threshold) return "none";
    if (c.reached) return "reached";
    var f = c.count / c.threshold;
    return f >= 0.75 ? "s4" : f >= 0.5 ? "s3" : f >= 0.25 ? "s2" : f > 0 ? "s1" : "s0";
  }

  function updateCountry(c) {
    var row = section.querySelector('tr[data-country="' + c.code + '"]');
    if (row) {
      setText(row.querySelector('[data-live="count"]'), format.format(c.count));
      var meter = row.querySelector("meter");
      if (meter && c.threshold) meter.value = Math.min(c.count, c.threshold);
      if (c.threshold) setText(row.querySelector('[data-live="share"]'), share(c.count, c.threshold, 1));
      var badge = row.querySelector('[data-live="reached"]');
      if (badge) badge.hidden = !c.reached;
      row.classList.toggle("reached", c.reached);
    }
    var tile = section.querySelector('g[data-country="' + c.code + '"]');
    if (tile && c.threshold) {
      tile.setAttribute("class", step(c));
      setText(tile.querySelector('[data-live="tile-share"]'), share(c.count, c.threshold, 0));
    }
  }

  // The table stays sorted by progress (petition/public/progress.py sorts it the same way): by share of
  // the threshold, then by count, then in the reader's alphabetical order.
  function sortRows(countries) {
    var body = section.querySelector('[data-live="country-rows"]');
    if (!body) return;
    var byCode = {};
    countries.forEach(function (c) { byCode[c.code] = c; });
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var c = byCode[row.getAttribute("data-country")] || { count: 0, threshold: null };
      return [c.threshold ? 0 : 1, c.threshold ? -(c.count / c.threshold) : 0, -c.count, +row.getAttribute("data-rank")];
    }
    var keyed = rows.map(function (row) { return { row: row, key: key(row) }; });
    keyed.sort(function (a, b) {
      for (var i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] < b.key[i] ? -1 : 1;
      return 0;
    });
    var moved = keyed.some(function (entry, i) { return entry.row !== rows[i]; });
    if (moved) keyed.forEach(function (entry) { body.appendChild(entry.row); });
  }

  function apply(data) {
    setTotal(data.total);
    var bar = section.querySelector('[data-live="total-bar"]');
    if (bar) bar.value = Math.min(data.total, bar.max);
    setText(section.querySelector('[data-live="countries-reached"]'), format.format(data.countries_reached));
    var countriesBar = section.querySelector('[data-live="countries-bar"]');
    if (countriesBar) countriesBar.value = Math.min(data.countries_reached, countriesBar.max);
    data.countries.forEach(updateCountry);
    sortRows(data.countries);
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
