// The situation overview's map: one point per child area (county, town or village), coloured
// by the chosen layer's figure; county boundaries underneath. A click drills down to the
// area's own overview. The figures come with the page (#overview-data): the map paints at once,
// the boundaries are drawn under it when they arrive.
(function () {
  "use strict";
  var box = document.getElementById("overview-map");
  var source = document.getElementById("overview-data");
  if (!box || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var chart = echarts.init(box, null, { renderer: "canvas" });
  var picker = document.querySelector("fieldset.layers");
  var layers = data.layers.filter(function (l) { return l.any; });
  var current = layers.length ? layers[0] : null;
  var shapes = null;
  window.addEventListener("resize", function () { chart.resize(); });

  function shown(layer, v) {
    if (v === null || v === undefined) { return box.dataset.none; }
    return layer.share ? Math.round(v * 1000) / 10 + "%" : String(v);
  }

  function draw() {
    var layer = current;
    var pts = data.points.map(function (p) {
      var v = layer ? p.values[layer.key] : null;
      return { name: p.name, href: p.href, value: [p.lon, p.lat, v === null ? "-" : v] };
    });
    var values = pts.map(function (p) { return p.value[2]; }).filter(function (v) { return v !== "-"; });
    var lo = values.length ? Math.min.apply(null, values) : 0;
    var hi = values.length ? Math.max.apply(null, values) : 1;
    if (hi === lo) { hi = lo + 1; }
    // red is bad: a large gap, many alerts, much stock short, full beds, late tasks; a near peak
    var colours = ["#3ba272", "#e6a23c", "#d9363e"];
    if (layer && layer.key === "peak") { colours = colours.slice().reverse(); }
    var system = shapes ? { coordinateSystem: "geo" } : {};
    var option = {
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item", formatter: function (p) {
        return p.name + (layer ? "<br>" + layer.label + ": " + shown(layer, p.value[2] === "-" ? null : p.value[2]) : "");
      } },
      visualMap: { min: lo, max: hi, dimension: 2, orient: "horizontal", left: "center", bottom: 0,
        calculable: true,
        formatter: function (v) { return layer ? shown(layer, layer.share ? v : Math.round(v)) : ""; },
        inRange: { color: colours }, outOfRange: { color: "#bbb" } },
      series: [Object.assign({ type: "scatter", data: pts, zlevel: 2,
        symbolSize: pts.length > 60 ? 9 : 18,
        label: { show: pts.length <= 30, formatter: "{b}", position: "right", fontFamily: font, color: "#333" },
        itemStyle: { borderColor: "#fff", borderWidth: 1 } }, system)]
    };
    if (shapes) {
      option.geo = { map: "overview-" + data.area, roam: true, layoutCenter: ["50%", "46%"], layoutSize: "92%",
        itemStyle: { areaColor: "#eef2f7", borderColor: "#7f8c9d" },
        emphasis: { itemStyle: { areaColor: "#dbe4f0" }, label: { show: false } } };
    } else {
      option.xAxis = { type: "value", scale: true, show: false };
      option.yAxis = { type: "value", scale: true, show: false };
      option.grid = { left: 10, right: 80, top: 10, bottom: 50 };
    }
    chart.setOption(option, true);
    box.dataset.rendered = String(pts.length);
    box.dataset.layer = layer ? layer.key : "";
  }

  layers.forEach(function (l, i) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "radio"; input.name = "layer"; input.value = l.key; input.checked = i === 0;
    input.dataset.testid = "layer-" + l.key;
    input.setAttribute("data-testid", "layer-" + l.key);
    input.addEventListener("change", function () { current = l; draw(); });
    label.appendChild(input);
    var swatch = document.createElement("span");
    swatch.textContent = l.label;
    label.appendChild(swatch);
    picker.appendChild(label);
  });
  chart.on("click", function (p) { if (p.data && p.data.href) { window.location.href = p.data.href; } });
  draw();

  fetch(box.dataset.boundaries, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (d) {
      if (!d.boundaries.features.length) { return; }
      echarts.registerMap("overview-" + data.area, d.boundaries);
      shapes = d.boundaries;
      draw();
      box.dataset.shapes = String(d.boundaries.features.length);
    })
    .catch(function () { /* the points stay drawn without boundaries */ });
})();
