// The coverage dashboard's charts: covered and missing per guarantee and subdivision, and the
// grade pie. Every bar and slice opens the list of exactly those people.
(function () {
  "use strict";
  var source = document.getElementById("coverage-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var charts = [];
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  function bars(box) {
    var chart = echarts.init(box);
    var series = [];
    Object.keys(data.labels).forEach(function (g) {
      series.push({ name: data.labels[g] + " " + data.covered_label, type: "bar", stack: g,
        data: data.covered[g], guarantee: g, itemStyle: { color: "#3ba272" } });
      series.push({ name: data.labels[g] + " " + data.missing_label, type: "bar", stack: g,
        data: data.missing[g], guarantee: g, itemStyle: { color: "#d9363e" } });
    });
    chart.setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 40, right: 10, top: 20, bottom: 80 },
      xAxis: { type: "category", data: data.areas, axisLabel: { rotate: data.areas.length > 6 ? 40 : 0, fontFamily: font } },
      yAxis: { type: "value" },
      series: series
    });
    chart.on("click", function (p) {
      var g = Object.keys(data.labels)[Math.floor(p.seriesIndex / 2)];
      var code = data.codes[p.dataIndex];
      window.location.href = "/people?area=" + code + (p.seriesIndex % 2 ? "&missing=" + g : "&grade=");
    });
    box.dataset.rendered = String(data.areas.length);
    charts.push(chart);
  }

  function pie(box) {
    var chart = echarts.init(box);
    chart.setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "70%"], label: { formatter: "{b} {c}", fontFamily: font },
        data: data.grades.map(function (g) {
          return { name: g.name, value: g.count, link: g.link, itemStyle: { color: g.colour } };
        }) }]
    });
    chart.on("click", function (p) { if (p.data && p.data.link) { window.location.href = p.data.link; } });
    box.dataset.rendered = String(data.grades.length);
    charts.push(chart);
  }

  var b = document.getElementById("coverage-bars");
  var p = document.getElementById("grade-pie");
  if (b) { bars(b); }
  if (p) { pie(p); }
})();
