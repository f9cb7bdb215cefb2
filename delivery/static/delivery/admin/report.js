// Draws a campaign report's charts (admin/delivery/campaign/report.html) from the data
// the page embeds. Each chart repeats a table on the page, which stays the accessible
// version; without JavaScript or Chart.js the tables are all there is.
"use strict";
(function () {
  function draw() {
    var source = document.getElementById("clarion-report-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var colours = ["#2563eb", "#15803d", "#b91c1c", "#b45309", "#7c3aed"];
    var common = { responsive: true, maintainAspectRatio: false, animation: false };
    function canvas(id) { return document.getElementById(id); }

    if (canvas("clarion-chart-time")) {
      // Points on short series: a campaign's first hour is one point, and a line needs two.
      var points = data.labels.length > 60 ? 0 : 3;
      new window.Chart(canvas("clarion-chart-time"), {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s, i) {
            return { label: s.label, data: s.data, borderColor: colours[i % colours.length],
                     backgroundColor: colours[i % colours.length], pointRadius: points, tension: 0.2 };
          })
        },
        options: Object.assign({}, common, {
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
    }
    function bars(id, part, colour) {
      if (!canvas(id) || !part.data.length) { return; }
      new window.Chart(canvas(id), {
        type: "bar",
        data: { labels: part.labels, datasets: [{ data: part.data, backgroundColor: colour }] },
        options: Object.assign({}, common, {
          indexAxis: "y",
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
    }
    bars("clarion-chart-funnel", data.funnel, colours[0]);
    bars("clarion-chart-reasons", data.reasons, colours[2]);
    bars("clarion-chart-links", data.links, colours[4]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
