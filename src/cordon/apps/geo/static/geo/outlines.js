// District, street and community outlines (convex hulls of their buildings, computed by the server) as map layers.
// cordonOutlines(map, source, opts) adds the layers to the map and returns them by name for a layer control.
// Districts are asked for once; streets and communities for the visible box, communities only when zoomed in
// (opts.communityZoom) or under a chosen district (opts.under), so a city's map stays light.
var CORDON_OUTLINE_STYLE = {
  2: { color: "#37474f", weight: 2.5, fill: false, dashArray: null },
  3: { color: "#6d4c41", weight: 1.5, fill: false, dashArray: "6 4" },
  4: { color: "#7e57c2", weight: 1, fill: false, dashArray: "2 3" }
};

function cordonOutlines(map, source, opts) {
  opts = opts || {};
  var communityZoom = opts.communityZoom || 14, streetZoom = opts.streetZoom || 11;
  var box = function () {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
  };
  function layerOf(level) {
    return L.geoJSON(null, {
      style: function () { return Object.assign({ interactive: true }, CORDON_OUTLINE_STYLE[level]); },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
    });
  }
  var layers = { 2: layerOf(2), 3: layerOf(3), 4: layerOf(4) };
  var seq = { 2: 0, 3: 0, 4: 0 };
  function load(level, params) {
    var mine = ++seq[level];
    var url = source + "?level=" + level + (params || "");
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      if (mine !== seq[level]) { return; }
      layers[level].clearLayers();
      layers[level].addData(d.features || []);
      layers[level].eachLayer(function (l) { if (l.bringToBack) { l.bringToBack(); } });
      map.getContainer().dataset["outlines" + level] = String((d.features || []).length);
    });
  }
  function refresh() {
    var z = map.getZoom();
    if (map.hasLayer(layers[3])) {
      if (z >= streetZoom) { load(3, "&bbox=" + box()); } else { layers[3].clearLayers(); map.getContainer().dataset.outlines3 = "0"; }
    }
    if (map.hasLayer(layers[4])) {
      if (opts.under) { load(4, "&under=" + encodeURIComponent(opts.under)); }
      else if (z >= communityZoom) { load(4, "&bbox=" + box()); }
      else { layers[4].clearLayers(); map.getContainer().dataset.outlines4 = "0"; }
    }
  }
  load(2, opts.under ? "&under=" + encodeURIComponent(opts.under) : "");
  layers[2].addTo(map);
  layers[3].addTo(map);
  layers[4].addTo(map);
  map.on("moveend overlayadd", refresh);
  return layers;
}
