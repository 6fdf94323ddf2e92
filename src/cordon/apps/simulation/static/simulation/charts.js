// Draws the simulator's daily figures with ECharts: every element with data-chart names the JSON script
// (json_script) holding {title, dates, lines: [{name, data}]}; one line per figure or per run.
(function () {
  "use strict";
  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var c = JSON.parse(source.textContent);
    var chart = echarts.init(el);
    chart.setOption({
      title: {text: c.title, left: "center", textStyle: {fontSize: 14}},
      tooltip: {trigger: "axis"},
      legend: {bottom: 0, type: "scroll"},
      grid: {left: 60, right: 20, top: 40, bottom: 50},
      xAxis: {type: "category", data: c.dates},
      yAxis: {type: "value"},
      series: c.lines.map(function (line) {
        return {name: line.name, type: "line", showSymbol: false, data: line.data};
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
