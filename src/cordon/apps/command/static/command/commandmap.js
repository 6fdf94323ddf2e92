// The command map: district outlines, zones coloured by kind, cases counted per street, grid or building (found in
// the community / under control), risk venues and isolation sites with their occupancy. Every layer is asked from
// GET /api/command/map for the visible box (the server chooses the grain and bounds the answer); a layer control
// switches them; no base map unless the page names a tile URL.
var CORDON_ZONE_COLOURS = { sealed: "#c62828", controlled: "#ef6c00", prevention: "#1565c0" };

function cordonCommandMap(elementId, statusId) {
  var el = document.getElementById(elementId);
  var status = document.getElementById(statusId);
  var d = el.dataset;
  var map = L.map(elementId, { attributionControl: false, zoomControl: false, preferCanvas: true });
  L.control.zoom({ zoomInTitle: d.zoomIn || "Zoom in", zoomOutTitle: d.zoomOut || "Zoom out" }).addTo(map);
  if (d.tiles) { L.tileLayer(d.tiles, { maxZoom: 19 }).addTo(map); }
  var names = (d.layers || "").split(",").filter(Boolean);
  var text = function (s) { var span = document.createElement("span"); span.textContent = s; return span.innerHTML; };
  function countIcon(n, colour) {
    return L.divIcon({ className: "command-count", html: '<span style="background:' + colour + '">' + n + "</span>", iconSize: null });
  }
  var makers = {
    districts: function () {
      return L.geoJSON(null, {
        style: function () { return { color: "#37474f", weight: 2.5, fill: false }; },
        onEachFeature: function (f, l) { l.bindTooltip(text(f.properties.name), { sticky: true }); }
      });
    },
    zones: function () {
      return L.geoJSON(null, {
        style: function (f) {
          var c = CORDON_ZONE_COLOURS[f.properties.kind] || "#555";
          return { color: c, weight: 2, fillOpacity: 0.25, dashArray: f.properties.state === "proposed" ? "4 4" : null };
        },
        pointToLayer: function (f, latlng) {
          var p = f.properties, parts = [];
          ["sealed", "controlled", "prevention"].forEach(function (k) { if (p[k]) { parts.push(p[k]); } });
          var kind = p.sealed ? "sealed" : p.controlled ? "controlled" : "prevention";
          var n = (p.sealed || 0) + (p.controlled || 0) + (p.prevention || 0);
          return L.marker(latlng, { icon: countIcon(n, CORDON_ZONE_COLOURS[kind]), title: p.name });
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindPopup(p.kind ? text(p.code + " " + p.name) : text(p.name) + ": " + ["sealed", "controlled", "prevention"].map(function (k) { return (p[k] || 0); }).join(" / ") + " " + text(d.zonesWord || "zones"));
        }
      });
    },
    cases: function () {
      return L.geoJSON(null, {
        pointToLayer: function (f, latlng) {
          var p = f.properties, n = p.community + p.control;
          var colour = p.community ? "#c62828" : "#2e7d32";
          var r = Math.min(28, 5 + 3 * Math.sqrt(n));
          var m = L.circleMarker(latlng, { radius: r, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.75 });
          m.bindTooltip(String(n), { permanent: n >= 1 && r > 8, direction: "center", className: "command-count-label" });
          return m;
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindPopup(text(p.name) + "<br>" + (p.community + p.control) + " " + text(d.casesWord || "cases") + ": " +
            p.community + " " + text(d.community || "in the community") + ", " + p.control + " " + text(d.control || "under control"));
        }
      });
    },
    venues: function () {
      return L.geoJSON(null, {
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          if (p.venues !== undefined) { return L.marker(latlng, { icon: countIcon(p.venues, "#6a1b9a"), title: p.name }); }
          return L.circleMarker(latlng, { radius: 4 + Math.min(8, p.cases), color: "#6a1b9a", weight: 2, fillOpacity: 0.2 });
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          var head = p.venues !== undefined ? text(p.name) + ": " + p.venues + " " + text(d.venuesWord || "risk venues") : text(p.code + " " + p.name);
          l.bindPopup(head + "<br>" + p.cases + " " + text(d.casesWord || "cases"));
        }
      });
    },
    sites: function () {
      return L.geoJSON(null, {
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          return L.circleMarker(latlng, { radius: 9, color: "#00838f", weight: 2 + Math.round(p.use / 20), fillColor: "#fff", fillOpacity: p.active ? 0.9 : 0.3 });
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindPopup(text(p.code + " " + p.name) + "<br>" + p.occupied + " / " + p.rooms + " " + text(d.roomsWord || "rooms in use") +
            " (" + p.use + "%), " + p.persons + " " + text(d.personsWord || "persons staying"));
        }
      });
    }
  };
  var layers = {}, overlays = {}, seq = {}, shown = {};
  names.forEach(function (name) {
    layers[name] = makers[name]().addTo(map);
    overlays[d["label" + name.charAt(0).toUpperCase() + name.slice(1)] || name] = layers[name];
    seq[name] = 0;
  });
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  function box() {
    var b = map.getBounds();
    return [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())]
      .map(function (v) { return v.toFixed(5); }).join(",");
  }
  function say() {
    var cut = names.some(function (n) { return shown[n] && shown[n].truncated; });
    status.textContent = cut ? (d.truncated || "") : "";
  }
  function load(name, bbox) {
    var mine = ++seq[name];
    var url = d.source + "?layer=" + name + "&days=" + (d.days || 14) + (bbox ? "&bbox=" + bbox : "");
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== seq[name]) { return; }
      layers[name].clearLayers();
      layers[name].addData(data.features || []);
      shown[name] = data;
      el.dataset["shown" + name.charAt(0).toUpperCase() + name.slice(1)] = String((data.features || []).length);
      el.dataset["grain" + name.charAt(0).toUpperCase() + name.slice(1)] = data.grain || "";
      say();
    });
  }
  function refresh(bbox) {
    names.forEach(function (name) {
      if (name === "districts") { return; } // asked once: a district's outline does not move with the box
      if (map.hasLayer(layers[name])) { load(name, bbox); }
    });
  }
  var extent = d.extent ? d.extent.split(",").map(Number) : null;
  if (extent) { map.fitBounds(L.latLngBounds([extent[1], extent[0]], [extent[3], extent[2]]), { padding: [10, 10], maxZoom: 14 }); }
  else { map.setView([39.9, 116.4], 10); }
  if (layers.districts) { load("districts", ""); }
  refresh(""); // as it opens: the user's whole area (counts per street), then the visible box as it moves
  map.on("moveend", function () { refresh(box()); });
  map.on("overlayadd", function (e) {
    names.forEach(function (name) { if (layers[name] === e.layer && name !== "districts") { load(name, box()); } });
  });
  return map;
}
