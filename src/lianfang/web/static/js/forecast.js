// Draws a stored forecast or fit: curves with 5–95% bands, scenario comparison, peak-day map.
(function () {
  "use strict";
  var node = document.getElementById("forecast-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var palette = ["#c23531", "#2f4554", "#61a0a8", "#d48265", "#91c7ae"];

  function dates(start, n) {
    var out = [], d = new Date(start + "T00:00:00");
    for (var i = 0; i < n; i++) {
      var x = new Date(d.getTime() + i * 86400000);
      out.push(x.toISOString().slice(0, 10));
    }
    return out;
  }
  function last(rows) { return rows[rows.length - 1]; }  // the whole-area column
  function band(name, colour, low, high, stack) {
    return [
      { name: name, type: "line", data: low, stack: stack, lineStyle: { opacity: 0 },
        itemStyle: { color: colour },
        symbol: "none", tooltip: { show: false } },
      { name: name, type: "line", data: high.map(function (h, i) { return h - low[i]; }),
        stack: stack, lineStyle: { opacity: 0 }, symbol: "none", itemStyle: { color: colour },
        areaStyle: { color: colour, opacity: 0.18 }, tooltip: { show: false } }
    ];
  }
  // Today's line (the one clock: LIANFANG_TODAY, the demo's day, or the real date) on a chart
  // whose category axis holds it; nothing when today lies outside the curve.
  function todayLine(x) {
    if (!data.today || x.indexOf(data.today) < 0) { return null; }
    return { silent: true, symbol: "none",
      label: { formatter: "今天 today " + data.today, position: "insideEndTop" },  // in the plot
      lineStyle: { color: "#333", type: "dashed", width: 1.5 }, data: [{ xAxis: data.today }] };
  }
  function markToday(series, x) {
    var line = todayLine(x);
    if (line && series.length) { series[series.length - 1].markLine = line; }
    return series;
  }
  // One line of legend at the top (paged when it does not fit), the axis name below it and
  // the plot below that: the legend never covers the axis name, at any width.
  var LEGEND = { top: 0, left: 0, right: 0, type: "scroll", itemGap: 12 };
  var GRID = { left: 60, right: 20, top: 68, bottom: 40 };
  function yAxis(name) {
    return { type: "value", name: name, nameGap: 14, nameTextStyle: { align: "left" } };
  }
  function chart(id, option) {
    var box = document.getElementById(id);
    if (!box) { return null; }
    var c = echarts.init(box);
    option.textStyle = { fontFamily: font };
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    box.dataset.rendered = "1";
    return c;
  }

  function forecastCharts(result) {
    var s0 = result.scenarios[0];
    var x = dates(s0.start, s0.days);
    var series = [], compare = [];
    result.scenarios.forEach(function (s, i) {
      var colour = palette[i % palette.length];
      var sym = s.bands.symptomatic;
      series = series.concat(band(s.name, colour, last(sym.low), last(sym.high), "band" + i));
      series.push({ name: s.name, type: "line", data: last(sym.median), symbol: "none",
        lineStyle: { color: colour, width: 2 }, itemStyle: { color: colour } });
      compare.push({ name: s.name + " · 在院 beds", type: "line", symbol: "none",
        data: last(s.bands.hospital_census.median), lineStyle: { color: colour, width: 2 },
        itemStyle: { color: colour } });
      compare.push({ name: s.name + " · ICU", type: "line", symbol: "none",
        data: last(s.bands.icu_census.median), lineStyle: { color: colour, type: "dashed" },
        itemStyle: { color: colour } });
      if (s.bands.oxygen_patients) {  // runs stored before oxygen was forecast have none
        compare.push({ name: s.name + " · 吸氧 oxygen", type: "line", symbol: "none",
          data: last(s.bands.oxygen_patients.median), lineStyle: { color: colour, type: "dotted" },
          itemStyle: { color: colour } });
      }
    });
    var axis = { type: "category", data: x, boundaryGap: false };
    chart("chart-curve", { tooltip: { trigger: "axis" }, legend: LEGEND, grid: GRID, xAxis: axis,
      yAxis: yAxis("新增症状 symptomatic/day"), series: markToday(series, x) });
    chart("chart-compare", { tooltip: { trigger: "axis" }, legend: LEGEND, grid: GRID,
      xAxis: axis, yAxis: yAxis("床位 beds"), series: markToday(compare, x) });
    peakMap(s0, x);
  }

  function peakMap(s0, x) {
    var box = document.getElementById("chart-map");
    if (!box) { return; }
    fetch(box.dataset.mapUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (geo) {
        var where = {};
        geo.points.forEach(function (p) { where[p.code] = [p.lon, p.lat, p.name]; });
        var points = [];
        data.villages.forEach(function (code, i) {
          var at = where[code];
          var day = s0.village_peak_day[i];
          if (at && day !== null) { points.push({ name: at[2], value: [at[0], at[1], day] }); }
        });
        var days = points.map(function (p) { return p.value[2]; });
        var name = "peak-" + data.area;
        var option = { tooltip: { formatter: function (p) {
            return p.name + "<br>" + x[Math.round(p.value[2])]; } },
          visualMap: { type: "continuous", dimension: 2, min: Math.min.apply(null, days),
            max: Math.max.apply(null, days), inRange: { color: ["#c23531", "#fac858", "#91cc75"] },
            formatter: function (v) { return x[Math.round(v)] || ""; }, calculable: true },
          series: [{ type: "scatter", symbolSize: 5, data: points }] };
        if (geo.boundaries.features.length) {
          echarts.registerMap(name, geo.boundaries);
          option.geo = { map: name, roam: true, itemStyle: { areaColor: "#eef2f7", borderColor: "#7f8c9d" } };
          option.series[0].coordinateSystem = "geo";
        } else {
          option.xAxis = { type: "value", scale: true, show: false };
          option.yAxis = { type: "value", scale: true, show: false };
        }
        chart("chart-map", option);
        box.dataset.points = String(points.length);
      });
  }

  function fitChart(result) {
    var names = Object.keys(result.predicted);
    var n = result.predicted[names[0]].median.length;
    var x = dates(result.observed_start, n);
    var series = [];
    names.forEach(function (name, i) {
      var colour = palette[i % palette.length], p = result.predicted[name];
      series = series.concat(band(name, colour, p.low, p.high, "fit" + i));
      series.push({ name: name, type: "line", data: p.median, symbol: "none",
        lineStyle: { color: colour, width: 2 }, itemStyle: { color: colour } });
      series.push({ name: name + " observed", type: "scatter", symbolSize: 5,
        data: result.observed[name], itemStyle: { color: colour } });
    });
    chart("chart-fit", { tooltip: { trigger: "axis" }, legend: LEGEND, grid: GRID,
      xAxis: { type: "category", data: x, boundaryGap: false }, yAxis: { type: "value" },
      series: markToday(series, x) });
  }

  // a fit's result holds the same scenario tables as a run (its outcomes), plus the observations
  if (data.kind === "fit") { fitChart(data.result); }
  if (data.result.scenarios) { forecastCharts(data.result); }
})();
