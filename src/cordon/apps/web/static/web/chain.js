// The transmission-chain graph of a cluster (Cytoscape). The server summarises large clusters (one node per
// street), so the browser never lays out more than a bounded number of nodes; the layout is breadth-first
// (linear time), without animation, so the page stays responsive.
function cordonChainGraph(elementId, noteId, texts) {
  var el = document.getElementById(elementId);
  var note = document.getElementById(noteId);
  fetch(el.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (g) {
      if (!g.nodes.length) { note.textContent = texts.empty; return; }
      note.textContent = (g.summarised ? texts.summarised : texts.full) + " (" + g.total + ")";
      el.dataset.nodes = String(g.nodes.length);
      var elements = g.nodes.map(function (n) { return { data: n }; }).concat(
        g.edges.map(function (e, i) { return { data: { id: "e" + i, source: e.source, target: e.target, count: e.count || 1 } }; }));
      var cy = cytoscape({
        container: el, elements: elements, wheelSensitivity: 0.3,
        textureOnViewport: true, hideEdgesOnViewport: g.nodes.length > 300,
        style: [
          { selector: "node", style: { "label": "data(label)", "font-size": 9, "width": 14, "height": 14, "background-color": "#0b5cad" } },
          { selector: "node[?community]", style: { "background-color": "#c0392b" } },
          { selector: "node[size]", style: { "width": "mapData(size, 1, 500, 16, 60)", "height": "mapData(size, 1, 500, 16, 60)" } },
          { selector: "edge", style: { "width": "mapData(count, 1, 50, 1, 6)", "line-color": "#9fb1c4", "target-arrow-color": "#9fb1c4", "target-arrow-shape": "triangle", "curve-style": g.nodes.length > 300 ? "haystack" : "bezier" } }
        ],
        layout: { name: g.nodes.length > 400 ? "grid" : "breadthfirst", directed: true, animate: false, spacingFactor: 1.1 }
      });
      cy.on("tap", "node", function (evt) {
        var id = evt.target.id();
        if (!g.summarised && /^\d+$/.test(id)) { window.location.href = "/tracing/cases/" + id + "/"; }
      });
      el.dataset.ready = "1";
    })
    .catch(function (err) { note.textContent = String(err); });
}
