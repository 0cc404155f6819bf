// Keeps the organisers' dashboard live: asks for the figures fragment every second and swaps it in
// when the server's ETag says it changed (an unchanged fragment costs a 304 with no body).
(function () {
  "use strict";
  var box = document.querySelector("[data-live-fragment]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-url");
  var etag = box.getAttribute("data-etag") ? '"' + box.getAttribute("data-etag") + '"' : null;
  var status = document.querySelector("[data-live-status]");
  var stopped = false;

  function say(text) {
    if (status) status.textContent = text;
  }

  function poll() {
    var headers = { "Accept": "text/html" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 200) {
          etag = response.headers.get("ETag");
          return response.text().then(function (html) {
            // Data tables someone opened stay open across the swap.
            var open = Array.prototype.map.call(box.querySelectorAll("details[id][open]"), function (d) { return d.id; });
            box.innerHTML = html;
            open.forEach(function (id) {
              var details = document.getElementById(id);
              if (details) details.open = true;
            });
            say("");
          });
        }
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          stopped = true;
          say("Your session has ended: reload the page to log in again.");
        }
      })
      .catch(function () { say("Connection lost: retrying…"); })
      .then(function () {
        if (!stopped) setTimeout(poll, document.hidden ? 10000 : 1000);
      });
  }
  setTimeout(poll, 1000);
})();
