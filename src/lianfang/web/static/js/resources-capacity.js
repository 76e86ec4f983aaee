// A facility's capacity history: general and ICU beds, total against occupied, over time.
(function () {
  "use strict";
  var box = document.getElementById("capacity-chart");
  if (!box || !window.echarts) { return; }
  var data = JSON.parse(box.dataset.chart);
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var chart = echarts.init(box, null, { renderer: "canvas" });
  window.addEventListener("resize", function () { chart.resize(); });
  var styles = {
    beds_total: { color: "#5470c6", type: "dashed" }, beds_occupied: { color: "#5470c6", type: "solid" },
    icu_total: { color: "#c23531", type: "dashed" }, icu_occupied: { color: "#c23531", type: "solid" }
  };
  var series = data.series.filter(function (s) {
    return s.data.some(function (v) { return v !== null; });
  }).map(function (s) {
    var st = styles[s.key];
    return { name: s.name, type: "line", data: s.data, connectNulls: true, symbolSize: 5,
      itemStyle: { color: st.color }, lineStyle: { color: st.color, type: st.type, width: 2 },
      areaStyle: s.key.indexOf("occupied") > 0 ? { color: st.color, opacity: 0.08 } : undefined };
  });
  chart.setOption({
    textStyle: { fontFamily: font },
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 48, right: 16, top: 36, bottom: 56 },
    xAxis: { type: "category", data: data.times, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", minInterval: 1 },
    series: series
  });
  box.dataset.rendered = String(series.length);
})();
