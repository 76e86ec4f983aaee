// Draws the facilities of an area on its county shapes: one series per type (the legend hides
// or shows a type), stale figures ringed in red; a click opens the facility.
(function () {
  "use strict";
  var box = document.getElementById("facility-map");
  if (!box || !window.echarts) { return; }
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var chart = echarts.init(box, null, { renderer: "canvas" });
  chart.showLoading({ text: "" });
  window.addEventListener("resize", function () { chart.resize(); });

  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }

  function draw(areas, data) {
    var hasShapes = areas.boundaries.features.length > 0;
    var mapName = "facilities-" + box.dataset.areasUrl;
    if (hasShapes) { echarts.registerMap(mapName, areas.boundaries); }
    var system = hasShapes ? { coordinateSystem: "geo" } : { coordinateSystem: "cartesian2d" };
    var present = {};
    data.facilities.forEach(function (f) { present[f.type] = true; });
    var types = data.types.filter(function (t) { return present[t.value]; });
    var series = types.map(function (t) {
      var big = t.value.indexOf("hospital") >= 0 || t.value === "warehouse";
      return Object.assign({
        name: t.name, type: "scatter", symbolSize: big ? 11 : 6, zlevel: big ? 2 : 1,
        itemStyle: { color: t.colour, opacity: 0.85 },
        data: data.facilities.filter(function (f) { return f.type === t.value; }).map(function (f) {
          var point = { name: f.name, value: [f.lon, f.lat], id: f.id, stale: f.stale };
          if (f.stale) { point.itemStyle = { borderColor: "#d9363e", borderWidth: 2 }; }
          return point;
        })
      }, system);
    });
    var option = {
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item", formatter: function (p) {
        return p.seriesName + "<br>" + p.name + (p.data && p.data.stale ? "（" + box.dataset.stale + "）" : "");
      } },
      legend: { type: "scroll", bottom: 0, data: types.map(function (t) { return t.name; }) },
      series: series
    };
    if (hasShapes) {
      option.geo = { map: mapName, roam: true, layoutCenter: ["50%", "46%"], layoutSize: "90%",
        label: { show: true, fontFamily: font, color: "#666" },
        itemStyle: { areaColor: "#eef2f7", borderColor: "#7f8c9d" },
        emphasis: { itemStyle: { areaColor: "#dbe4f0" } } };
    } else {
      option.xAxis = { type: "value", scale: true, show: false };
      option.yAxis = { type: "value", scale: true, show: false };
    }
    chart.hideLoading();
    chart.setOption(option);
    chart.on("click", function (p) {
      if (p.data && p.data.id) { window.location.href = "/resources/facilities/" + p.data.id; }
    });
    box.dataset.rendered = String(data.facilities.length);
    box.dataset.stalePoints = String(data.facilities.filter(function (f) { return f.stale; }).length);
  }

  Promise.all([get(box.dataset.areasUrl), get(box.dataset.mapUrl)])
    .then(function (both) { draw(both[0], both[1]); })
    .catch(function (e) { chart.hideLoading(); box.textContent = "地图加载失败 / map failed: " + e.message; });
})();
