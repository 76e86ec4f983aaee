// Draws an area's map: county polygons from GeoJSON, town and village points on top.
(function () {
  "use strict";
  var box = document.getElementById("area-map");
  if (!box || !window.echarts) { return; }
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var chart = echarts.init(box, null, { renderer: "canvas" });
  chart.showLoading({ text: "" });
  window.addEventListener("resize", function () { chart.resize(); });

  function points(data, level) {
    return data.points.filter(function (p) { return p.level === level; }).map(function (p) {
      return { name: p.name, value: [p.lon, p.lat], code: p.code };
    });
  }

  function draw(data) {
    var mapName = "area-" + box.dataset.mapUrl;
    var hasShapes = data.boundaries.features.length > 0;
    var codeByName = {};
    data.boundaries.features.forEach(function (f) { codeByName[f.properties.name] = f.properties.code; });
    var system = hasShapes ? { coordinateSystem: "geo" } : { coordinateSystem: "cartesian2d" };
    if (hasShapes) { echarts.registerMap(mapName, data.boundaries); }
    var option = {
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item", formatter: function (p) { return p.name; } },
      legend: { bottom: 0, data: [box.dataset.town, box.dataset.village] },
      series: [
        Object.assign({ name: box.dataset.town, type: "scatter", symbolSize: 9, zlevel: 2,
          itemStyle: { color: "#c23531", borderColor: "#fff", borderWidth: 1 },
          data: points(data, "town") }, system),
        Object.assign({ name: box.dataset.village, type: "scatter", zlevel: 1,
          symbolSize: data.points.length < 5 ? 12 : 4,
          itemStyle: { color: "#2f4554", opacity: 0.75 },
          data: points(data, "village") }, system)
      ]
    };
    if (hasShapes) {
      option.geo = { map: mapName, roam: true, layoutCenter: ["50%", "48%"], layoutSize: "92%",
        label: { show: true, fontFamily: font, color: "#444" },
        itemStyle: { areaColor: "#eef2f7", borderColor: "#7f8c9d" },
        emphasis: { itemStyle: { areaColor: "#dbe4f0" }, label: { show: true } } };
    } else {
      option.xAxis = { type: "value", scale: true, show: false };
      option.yAxis = { type: "value", scale: true, show: false };
    }
    chart.hideLoading();
    chart.setOption(option);
    chart.on("click", function (p) {
      var code = (p.data && p.data.code) || (p.componentType === "geo" && codeByName[p.name]);
      if (code) { window.location.href = "/areas/" + code; }
    });
    box.dataset.rendered = String(data.points.length);
    box.dataset.shapes = String(data.boundaries.features.length);
    var notice = document.getElementById("placed-notice");
    if (notice && data.placed) { notice.hidden = false; }
  }

  fetch(box.dataset.mapUrl, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(draw)
    .catch(function (e) { chart.hideLoading(); box.textContent = "地图加载失败 / map failed: " + e.message; });
})();
