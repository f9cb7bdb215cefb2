// Draws the home page's chart of sends (admin/delivery/dashboard.html) from the data the
// page embeds. The table under it holds the same numbers and stays the accessible
// version; without JavaScript or Chart.js the table is all there is.
"use strict";
(function () {
  function draw() {
    var source = document.getElementById("clarion-dashboard-data");
    var canvas = document.getElementById("clarion-chart-sends");
    if (!source || !canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var colours = ["#2563eb", "#b91c1c"];
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length] };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
