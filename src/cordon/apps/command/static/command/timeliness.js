// Draws the timeliness trends with ECharts: every element with data-cmd-timeliness names its kind (hours: the
// median and the 90th percentile per day against the target, with the cases still pending as bars; control: the
// share of cases found under control) and, in data-source, the JSON script holding its figures and labels.
(function () {
  "use strict";
  var kinds = {
    hours: function (c) {
      return {
        xAxis: {type: "category", data: c.dates},
        yAxis: [{type: "value", name: "h"}, {type: "value", minInterval: 1, splitLine: {show: false}}],
        series: [
          {name: c.labels.pending, type: "bar", yAxisIndex: 1, data: c.pending, color: "#d5d8dc"},
          {name: c.labels.median, type: "line", data: c.median, connectNulls: false, color: "#1f618d",
           markLine: {symbol: "none", silent: true, data: [{yAxis: c.target, name: c.labels.target}],
                      lineStyle: {type: "dashed", color: "#c0392b"}}},
          {name: c.labels.p90, type: "line", data: c.p90, connectNulls: false, color: "#d35400",
           lineStyle: {type: "dotted"}}
        ]
      };
    },
    control: function (c) {
      return {
        xAxis: {type: "category", data: c.dates},
        yAxis: [{type: "value", min: 0, max: 100, name: "%"},
                {type: "value", minInterval: 1, splitLine: {show: false}}],
        series: [
          {name: c.labels.cases, type: "bar", yAxisIndex: 1, data: c.cases, color: "#d5d8dc"},
          {name: c.labels.share, type: "line", data: c.share, connectNulls: false, color: "#2e86c1"}
        ]
      };
    }
  };
  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    var kind = kinds[el.getAttribute("data-cmd-timeliness")];
    if (!source || !kind || typeof echarts === "undefined") { return; }
    var option = kind(JSON.parse(source.textContent));
    option.tooltip = {trigger: "axis"};
    option.legend = {bottom: 0, type: "scroll"};
    option.grid = {left: 45, right: 45, top: 30, bottom: 50};
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-cmd-timeliness]").forEach(draw);
})();
