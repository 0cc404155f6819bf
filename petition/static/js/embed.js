// The petition widget loader. On a partner's page:
//   <script src="https://petitions.example/embed.js" data-petition="SLUG" data-partner="PARTNER-ID" async></script>
// Options: data-lang="en", data-theme="light|dark|auto", data-source="CODE" (else ?source= of the page),
// data-title (the iframe's accessible name). It inserts one iframe after the script tag and sizes it to
// its content from the widget's messages, accepted only from our origin and from that very iframe.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-petition")) return;
  var ours = new URL(script.src, document.baseURI);
  var SOURCE_CODE = /^[A-Za-z0-9_-]{1,40}$/;

  var params = new URLSearchParams();
  ["partner", "lang", "theme"].forEach(function (name) {
    var value = script.getAttribute("data-" + name);
    if (value) params.set(name, value);
  });
  var source = script.getAttribute("data-source") || new URLSearchParams(window.location.search).get("source");
  if (source && SOURCE_CODE.test(source)) params.set("source", source);
  if (window.location.origin && window.location.origin !== "null") params.set("origin", window.location.origin);

  var frame = document.createElement("iframe");
  frame.src = new URL("embed/" + encodeURIComponent(script.getAttribute("data-petition")) + "?" + params, ours).href;
  frame.title = script.getAttribute("data-title") || "Sign the petition";
  frame.className = "petition-widget";
  frame.style.cssText = "display:block;width:100%;max-width:40rem;height:640px;border:0;overflow:hidden";
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== ours.origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "petition-widget:height") return;
    var height = Number(data.height);
    if (height > 0 && height < 20000) frame.style.height = Math.ceil(height) + "px";
  });
})();
