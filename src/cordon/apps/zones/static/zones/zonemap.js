// The zone map: zones coloured by kind, loaded as GeoJSON for the visible box (simplified by the server), on a
// blank canvas unless the page names a tile URL. And a drawing tool: clicks on the map add corners, "Finish"
// closes the polygon, writes it as GeoJSON into a form field and asks the server what it would take.
var CORDON_KIND_COLOURS = { sealed: "#c62828", controlled: "#ef6c00", prevention: "#1565c0" };

function cordonZoneMap(elementId, opts) {
  var el = document.getElementById(elementId);
  var map = L.map(elementId, { attributionControl: false, zoomControl: false, preferCanvas: true, doubleClickZoom: false });
  L.control.zoom({ zoomInTitle: el.dataset.zoomIn || "Zoom in", zoomOutTitle: el.dataset.zoomOut || "Zoom out" }).addTo(map);
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
  // District, street and community outlines (geo/outlines.js) with a layer control, when the page asks for them.
  if (el.dataset.outlines && typeof cordonOutlines === "function") {
    var outlines = cordonOutlines(map, el.dataset.outlines, { under: el.dataset.under || "" });
    var named = {};
    named[el.dataset.districtsLabel || "Districts"] = outlines[2];
    named[el.dataset.streetsLabel || "Streets"] = outlines[3];
    named[el.dataset.communitiesLabel || "Communities"] = outlines[4];
    L.control.layers(null, named, { collapsed: false }).addTo(map);
  }
  var layer = L.geoJSON(null, {
    style: function (f) {
      var c = CORDON_KIND_COLOURS[f.properties.kind] || "#555";
      var closed = f.properties.state === "closed";
      return { color: c, weight: 2, fillOpacity: closed ? 0.05 : 0.25, dashArray: f.properties.state === "proposed" ? "4 4" : null };
    }
  }).addTo(map);
  // One popup for the whole layer, made for the zone clicked (not one bound to each of 20,000 zones: that
  // alone took a large part of opening a city's map).
  layer.bindPopup(function (l) {
    var p = l.feature.properties;
    var a = document.createElement("a");
    a.href = (el.dataset.zoneUrl || "/zones/CODE/").replace("CODE", encodeURIComponent(p.code));
    a.textContent = p.code + " " + p.name;
    a.setAttribute("data-testid", "zone-popup-link");
    return a;
  });
  // The buildings under the zones, asked for the visible box once zoomed in enough (points and footprints).
  var houses = L.featureGroup().addTo(map);
  houses.bringToBack();
  function loadBuildings() {
    houses.clearLayers();
    if (!el.dataset.buildings || map.getZoom() < 15) { return; }
    var b = map.getBounds();
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    fetch(el.dataset.buildings + "?bbox=" + box, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      houses.clearLayers();
      d.buildings.forEach(function (h) {
        var style = { color: "#666", weight: 1, fillOpacity: 0.15, interactive: false };
        if (h.footprint && h.footprint.length > 2) {
          L.polygon(h.footprint.map(function (p) { return [p[1], p[0]]; }), style).addTo(houses);
        } else {
          L.circleMarker([h.lat, h.lon], Object.assign({ radius: 3 }, style)).addTo(houses);
        }
      });
      houses.bringToBack();
      el.dataset.houses = String(d.buildings.length);
    });
  }
  map.on("moveend", loadBuildings);
  var status = opts && opts.status ? document.getElementById(opts.status) : null;
  var seq = 0;
  function load(bbox) {
    var url = el.dataset.source + (el.dataset.source.indexOf("?") < 0 ? "?" : "&") + (bbox ? "bbox=" + bbox : "");
    var mine = ++seq;
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== seq) { return data; }
      layer.clearLayers();
      layer.addData(data);
      if (status) {
        status.textContent = (data.truncated ? el.dataset.truncated + " " : "") + (el.dataset.shown || "{n}").replace("{n}", data.features.length);
      }
      el.dataset.loaded = String(data.features.length);
      // Drawn: the first frame after the zones were added (what bench/bench_zone_map_browser.py waits for).
      requestAnimationFrame(function () { el.dataset.drawn = String(data.features.length); });
      return data;
    });
  }
  var first = true;
  var extent = el.dataset.extent ? el.dataset.extent.split(",").map(Number) : null;
  var area = extent ? L.latLngBounds([extent[1], extent[0]], [extent[3], extent[2]]) : null;
  load("").then(function () {
    if (area && (el.dataset.fit === "area" || !layer.getLayers().length)) { map.fitBounds(area, { maxZoom: 17, padding: [10, 10] }); }
    else if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [20, 20] }); }
    else { map.setView([39.9, 116.4], 10); }
    map.on("moveend", function () {
      if (first) { first = false; return; }
      var b = map.getBounds();
      load([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","));
    });
  });
  return map;
}

function cordonDrawTool(map, opts) {
  var field = document.getElementById(opts.field);
  var out = document.getElementById(opts.preview);
  var startBtn = document.getElementById(opts.start), finishBtn = document.getElementById(opts.finish), clearBtn = document.getElementById(opts.clear);
  var corners = [], line = null, shape = null, drawing = false;
  function redraw() {
    if (line) { map.removeLayer(line); }
    line = L.polyline(corners, { color: "#000", weight: 2, dashArray: "3 3" }).addTo(map);
    finishBtn.disabled = corners.length < 3;
  }
  function preview() {
    var owner = opts.owner ? document.getElementById(opts.owner).value : "";
    var url = opts.url + "?owner=" + encodeURIComponent(owner) + "&boundary=" + encodeURIComponent(field.value);
    out.textContent = out.dataset.wait;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      out.textContent = d.error ? d.error : out.dataset.text.replace("{b}", d.buildings).replace("{r}", d.residents);
      out.dataset.buildings = d.error ? "" : d.buildings;
      out.dataset.residents = d.error ? "" : d.residents;
    });
  }
  map.on("click", function (e) {
    if (!drawing) { return; }
    corners.push([e.latlng.lat, e.latlng.lng]);
    redraw();
  });
  startBtn.addEventListener("click", function () {
    corners = []; drawing = true;
    if (shape) { map.removeLayer(shape); shape = null; }
    redraw();
    map.getContainer().style.cursor = "crosshair";
    startBtn.setAttribute("aria-pressed", "true");
  });
  finishBtn.addEventListener("click", function () {
    if (corners.length < 3) { return; }
    drawing = false;
    map.getContainer().style.cursor = "";
    startBtn.setAttribute("aria-pressed", "false");
    if (line) { map.removeLayer(line); line = null; }
    shape = L.polygon(corners, { color: "#000", weight: 2, fillOpacity: 0.1 }).addTo(map);
    var ring = corners.map(function (c) { return [Number(c[1].toFixed(6)), Number(c[0].toFixed(6))]; });
    ring.push(ring[0]);
    field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    finishBtn.disabled = true;
    preview();
  });
  clearBtn.addEventListener("click", function () {
    corners = []; drawing = false;
    if (line) { map.removeLayer(line); line = null; }
    if (shape) { map.removeLayer(shape); shape = null; }
    field.value = ""; out.textContent = "";
    finishBtn.disabled = true;
  });
  field.addEventListener("change", function () { if (field.value.trim()) { preview(); } });
}
