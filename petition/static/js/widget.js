// Inside the widget iframe: tells the embedding page how tall the content is, so embed.js can size the
// iframe. It posts only to the page origin the server checked (data-parent-origin), never to "*".
(function () {
  "use strict";
  var parentOrigin = document.documentElement.getAttribute("data-parent-origin");
  if (!parentOrigin || window.parent === window || !window.postMessage) return;
  var last = 0;

  function report() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "petition-widget:height", height: height }, parentOrigin);
  }

  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  window.addEventListener("load", report);
  report();
})();
