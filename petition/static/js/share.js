// "Copy" buttons put the text of the element they name on the clipboard: the share page's code blocks,
// and the petition's address on the thanks page (an input, whose value is copied). The buttons are
// hidden until this script shows them, so a page without scripts never offers one that does nothing.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    var status = document.querySelector('[data-copy-status="' + source.id + '"]');
    button.addEventListener("click", function () {
      var text = "value" in source && source.tagName === "INPUT" ? source.value : source.textContent;
      navigator.clipboard.writeText(text).then(
        function () {
          var copied = button.getAttribute("data-copied");
          if (status && copied) {
            status.textContent = copied;
            return;
          }
          var label = button.textContent;
          button.textContent = "✓";
          setTimeout(function () { button.textContent = label; }, 1500);
        },
        function () {
          // No permission (an insecure origin, a refused prompt): select it, for Ctrl-C.
          if (source.select) source.select();
        }
      );
    });
  });
})();
