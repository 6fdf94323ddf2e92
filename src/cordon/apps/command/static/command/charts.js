// Draws the situation analysis's charts with ECharts. Every element with data-cmd-chart names its kind (curve,
// rt, nowcast) and, in data-source, the JSON script (json_script) holding its figures and translated labels.
(function () {
  "use strict";
  function band(name, dates, lower, upper, color) {
    // a band drawn as a transparent base (the lower bound) and a stacked filled area (upper - lower)
    return [
      {name: name, type: "line", data: lower, stack: name, lineStyle: {opacity: 0}, symbol: "none",
       tooltip: {show: false}},
      {name: name, type: "line", stack: name, symbol: "none", lineStyle: {opacity: 0},
       areaStyle: {color: color, opacity: 0.25},
       data: upper.map(function (u, i) { return u === null || lower[i] === null ? null : u - lower[i]; })}
    ];
  }
  var kinds = {
    curve: function (c) {
      return {
        xAxis: {type: "category", data: c.dates}, yAxis: {type: "value", minInterval: 1},
        series: [
          {name: c.labels.community, type: "bar", stack: "cases", data: c.community, color: "#c0392b"},
          {name: c.labels.control, type: "bar", stack: "cases", data: c.control, color: "#2e86c1"}
        ]
      };
    },
    rt: function (c) {
      return {
        xAxis: {type: "category", data: c.dates}, yAxis: {type: "value"},
        series: band(c.labels.band, c.dates, c.lower, c.upper, "#7d3c98").concat([
          {name: c.labels.mean, type: "line", data: c.mean, symbol: "none", color: "#7d3c98",
           markLine: {symbol: "none", silent: true, data: [{yAxis: 1, name: c.labels.one}],
                      lineStyle: {type: "dashed", color: "#555"}}}
        ]).concat(c.on === "nowcast" ? [
          // the as-reported Rt beside the one on the nowcast (its last days lean low)
          {name: c.labels.reported, type: "line", data: c.reported.mean, symbol: "none", color: "#7f8c8d",
           lineStyle: {type: "dashed"}}
        ] : [])
      };
    },
    nowcast: function (c) {
      return {
        xAxis: {type: "category", data: c.dates}, yAxis: {type: "value", minInterval: 1},
        series: [{name: c.labels.reported, type: "bar", data: c.reported, color: "#95a5a6"}]
          .concat(band(c.labels.band, c.dates, c.lower, c.upper, "#d35400"))
          .concat([{name: c.labels.estimate, type: "line", data: c.estimate, color: "#d35400"}])
      };
    }
  };
  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    var kind = kinds[el.getAttribute("data-cmd-chart")];
    if (!source || !kind || typeof echarts === "undefined") { return; }
    var option = kind(JSON.parse(source.textContent));
    option.tooltip = {trigger: "axis"};
    option.legend = {bottom: 0, type: "scroll"};
    option.grid = {left: 45, right: 15, top: 20, bottom: 50};
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-cmd-chart]").forEach(draw);
})();
