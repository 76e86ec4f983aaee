// Coverage of red and yellow people by village: one point per village, coloured by the share
// covered (all four guarantees, or the chosen one); a click opens the village's list with the
// filters applied (and, when a guarantee is chosen, those lacking it).
(function () {
  "use strict";
  var box = document.getElementById("people-map");
  if (!box || !window.echarts) { return; }
  var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var chart = echarts.init(box, null, { renderer: "canvas" });
  var picker = document.getElementById("map-by");
  var villages = [];
  window.addEventListener("resize", function () { chart.resize(); });

  function draw() {
    var by = picker ? picker.value : "all";
    var data = villages.map(function (v) {
      var share = v.followed ? v.covered[by] / v.followed : 0;
      return { name: v.name, code: v.code, value: [v.lon, v.lat, Math.round(share * 100), v.followed] };
    });
    chart.setOption({
      textStyle: { fontFamily: font },
      tooltip: { formatter: function (p) {
        return p.name + "<br>" + box.dataset.followed + " " + p.value[3] + "<br>" + box.dataset.share + " " + p.value[2] + "%";
      } },
      xAxis: { type: "value", scale: true, show: false },
      yAxis: { type: "value", scale: true, show: false },
      grid: { left: 10, right: 10, top: 10, bottom: 50 },
      visualMap: { min: 0, max: 100, dimension: 2, orient: "horizontal", left: "center", bottom: 0,
        text: ["100%", "0%"], calculable: true, inRange: { color: ["#d9363e", "#e6a23c", "#3ba272"] } },
      series: [{ type: "scatter", data: data,
        symbolSize: function (v) { return Math.min(26, 6 + Math.sqrt(v[3]) * 3); } }]
    }, true);
    box.dataset.rendered = String(data.length);
  }

  chart.on("click", function (p) {
    if (!p.data || !p.data.code) { return; }
    // the village's list keeps the filters applied now (the address follows the filter form)
    var by = picker ? picker.value : "all";
    var params = new URLSearchParams(window.location.search);
    params.set("area", p.data.code);
    params.delete("page");
    if (by !== "all") { params.set("missing", by); }
    window.location.href = "/people?" + params.toString();
  });
  if (picker) { picker.addEventListener("change", draw); }

  fetch(box.dataset.mapUrl, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (d) { villages = d.villages; draw(); })
    .catch(function (e) { box.textContent = "地图加载失败 / map failed: " + e.message; });
})();
