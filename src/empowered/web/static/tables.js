/* Wide tables on a phone. A table wider than its box scrolls sideways inside its
   .table-wrap; such a box must be reachable by keyboard and named (WCAG 2.1.1, axe's
   "scrollable-region-focusable"), and should show that it scrolls. Only boxes that really
   overflow are changed, so a table that fits is not an extra stop for the Tab key. Without
   this script the tables still scroll (site.css); they just lack the name and the hint. */
(function () {
  "use strict";
  var HINT = "Scroll sideways to see the whole table.";

  /* The table's caption, else the nearest heading before it, else a plain word. */
  function nameOf(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    for (var node = wrap; node && node !== document.body; node = node.parentElement) {
      for (var before = node.previousElementSibling; before; before = before.previousElementSibling) {
        if (/^H[1-6]$/.test(before.tagName) && before.textContent.trim()) {
          return before.textContent.trim();
        }
      }
    }
    return "Table";
  }

  function mark(wrap) {
    var overflows = wrap.scrollWidth > wrap.clientWidth + 1;
    var marked = wrap.hasAttribute("data-scrolls");
    if (overflows && !marked) {
      wrap.setAttribute("data-scrolls", "");
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", nameOf(wrap) + " (scrolls sideways)");
      var hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = HINT;
      wrap.parentNode.insertBefore(hint, wrap);
    } else if (!overflows && marked) {
      wrap.removeAttribute("data-scrolls");
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
      var old = wrap.previousElementSibling;
      if (old && old.className === "scroll-hint") { old.parentNode.removeChild(old); }
    }
  }

  function markAll() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) { mark(wraps[i]); }
  }

  var pending = null;
  function later() {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(markAll, 150);
  }

  window.addEventListener("load", markAll);
  window.addEventListener("resize", later);
  /* A table HTMX swaps in is marked too. */
  document.addEventListener("htmx:afterSettle", markAll);
  /* A table inside <details> has no width until it is opened ("toggle" does not bubble). */
  document.addEventListener("toggle", markAll, true);
  /* Print lays the page out at another width: measure again for it and after it. */
  window.addEventListener("beforeprint", markAll);
  window.addEventListener("afterprint", markAll);
})();
