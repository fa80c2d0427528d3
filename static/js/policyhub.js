// PolicyHub's own behaviour, loaded on every page. The Content-Security-Policy runs no
// inline script or event handler, so pages mark elements with data attributes instead.
"use strict";

// <button type="button" data-print>Print</button>: prints the page.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
