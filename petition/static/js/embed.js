// The petition widget loader. On a partner's page:
//   <script src="https://petitions.example/embed.js" data-petition="SLUG" data-partner="PARTNER-ID" async></script>
// Options: data-lang="en", data-theme="light|dark|auto", data-source="CODE" (else ?source= of the page),
// data-title (the iframe's accessible name). It inserts one iframe after the script tag and sizes it to
// its content from the widget's messages, accepted only from our origin and from that very iframe.
// A widget the browser refuses to show (a site the partner did not register, a wrong or revoked partner
// id) never sends one: the frame is then replaced by a plain link to the petition's own page.
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

  var heard = false;
  window.addEventListener("message", function (event) {
    if (event.origin !== ours.origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "petition-widget:height") return;
    heard = true;
    var height = Number(data.height);
    if (height > 0 && height < 20000) frame.style.height = Math.ceil(height) + "px";
  });

  // The widget reports its height as soon as its page runs, before the frame's load event; a refused
  // frame loads the browser's error page instead and stays silent. A little grace for slow machines.
  frame.addEventListener("load", function () {
    setTimeout(function () { if (!heard) showLink(); }, 3000);
  });

  function showLink() {
    if (!frame.parentNode) return;
    var slug = script.getAttribute("data-petition");
    var link = document.createElement("a");
    link.href = new URL("p/" + encodeURIComponent(slug), ours).href;
    link.textContent = frame.title;
    var box = document.createElement("p");
    box.className = "petition-widget-link";
    box.style.cssText = "max-width:40rem;font-size:1.125rem";
    box.appendChild(link);
    frame.parentNode.replaceChild(box, frame);
    // The petition's title and the words in the widget's language, when our server can be reached.
    var query = new URLSearchParams();
    ["lang", "source"].forEach(function (name) { if (params.get(name)) query.set(name, params.get(name)); });
    if (!window.fetch) return;
    fetch(new URL("embed/" + encodeURIComponent(slug) + "/link?" + query, ours).href, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || typeof data.href !== "string" || data.href.indexOf(ours.origin + "/") !== 0) return;
        link.href = data.href;
        link.textContent = data.text;
        if (data.lang) link.lang = data.lang;
      })
      .catch(function () {});
  }
})();
