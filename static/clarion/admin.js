/* Accessibility fixes to Django's own admin scripts (issue 10). */
"use strict";

// The dual-list widget (SelectFilter2.js) names its search icons with aria-label on a
// bare <span>, which ARIA does not allow (axe-core "aria-prohibited-attr"): as an image
// the label is valid. The widgets are built on "load"; this runs after their handler.
window.addEventListener("load", function () {
  window.setTimeout(function () {
    document.querySelectorAll("span.search-label-icon[aria-label]:not([role])").forEach(
      function (icon) {
        icon.setAttribute("role", "img");
      }
    );
  }, 0);
});
