// Draw buildings (points and footprints) with Leaflet on a blank canvas: no tile server by default. The zoom
// buttons take their names from the element's data-zoom-in / data-zoom-out (translated by the page).
function cordonBuildingMap(elementId, buildings) {
  var el = document.getElementById(elementId);
  var map = L.map(elementId, { attributionControl: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: el.dataset.zoomIn || "Zoom in", zoomOutTitle: el.dataset.zoomOut || "Zoom out" }).addTo(map);
  var layer = L.featureGroup().addTo(map);
  buildings.forEach(function (b) {
    if (b.lat == null || b.lon == null) { return; }
    var label = (b.address || "") + (b.code ? " (" + b.code + ")" : "");
    if (b.footprint && b.footprint.length > 2) {
      L.polygon(b.footprint.map(function (p) { return [p[1], p[0]]; }), { weight: 1, color: "#0b5cad" })
        .bindTooltip(label).addTo(layer);
    } else {
      L.circleMarker([b.lat, b.lon], { radius: 5, weight: 1, color: "#0b5cad" }).bindTooltip(label).addTo(layer);
    }
  });
  if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { maxZoom: 18, padding: [20, 20] }); }
  else { map.setView([39.9, 116.4], 10); }
  return map;
}
