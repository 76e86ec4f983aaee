// The coverage dashboard's charts: covered and missing per guarantee and subdivision, and the
// grade pie. Every bar and slice opens the list of exactly those people.
(function () {
  "use strict";
  var source = document.getElementById("coverage-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var charts = [];
  // Counts grouped by thousands as the page's language writes them (as the |num filter does).
  function num(n) { return Number(n).toLocaleString(document.documentElement.lang || "zh-CN"); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // One bar per guarantee and subdivision: the share of red and yellow people it reaches, so that
  // areas of different size compare; the tooltip gives the counts.
  var palette = ["#5470c6", "#91cc75", "#fac858", "#ee6666"];
  function bars(box) {
    var chart = echarts.init(box);
    var keys = data.order;
    var series = keys.map(function (g, i) {
      return { name: data.labels[g], type: "bar", guarantee: g, itemStyle: { color: palette[i % 4] },
        data: data.covered[g].map(function (c, k) {
          var total = c + data.missing[g][k];
          return { value: total ? Math.round(1000 * c / total) / 10 : 0, covered: c, missing: data.missing[g][k] };
        }) };
    });
    chart.setOption({
      textStyle: { fontFamily: font },
      legend: { top: 0, textStyle: { fontFamily: font } },
      tooltip: { trigger: "item", formatter: function (p) {
        return data.areas[p.dataIndex] + " · " + p.seriesName + "<br>" + data.covered_label + " " +
          num(p.data.covered) + " · " + data.missing_label + " " + num(p.data.missing) + " · " + p.data.value + "%";
      } },
      grid: { left: 48, right: 10, top: 36, bottom: 80 },
      xAxis: { type: "category", data: data.areas, axisLabel: { rotate: data.areas.length > 6 ? 40 : 0, fontFamily: font } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: series
    });
    chart.on("click", function (p) {
      window.location.href = "/people?area=" + data.codes[p.dataIndex] + "&missing=" + keys[p.seriesIndex];
    });
    box.dataset.rendered = String(data.areas.length);
    charts.push(chart);
  }

  function pie(box) {
    var chart = echarts.init(box);
    chart.setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item" },
      legend: { bottom: 0, textStyle: { fontFamily: font } },
      series: [{ type: "pie", radius: ["30%", "62%"], center: ["50%", "45%"],
        label: { position: "inside", formatter: "{d}%", color: "#fff", fontFamily: font },
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
