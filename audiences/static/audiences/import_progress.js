// Profile imports in the admin: while an import is queued or running, poll its
// status view every second and move the <progress> bar; reload when it ends so
// the page shows the final counts and the rejected-rows link.
"use strict";
(function () {
  const POLL_MS = 1000;

  function watch(bar) {
    const url = bar.dataset.statusUrl;
    const label = bar.parentElement.querySelector(".clarion-import-percent");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((status) => {
          bar.value = status.percent;
          bar.textContent = status.percent + "%";
          if (label) {
            label.textContent =
              status.percent + "% · " + status.created + " / " + status.updated + " / " + status.rejected;
          }
          if (status.finished) {
            window.location.reload();
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(() => window.setTimeout(poll, POLL_MS * 5));
    }
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("progress[data-status-url]").forEach((bar) => {
      if (bar.dataset.statusUrl) {
        watch(bar);
      }
    });
  });
})();
