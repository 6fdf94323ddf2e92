// The transmission-chain graph of a cluster (Cytoscape). The server orders the chain: every link is drawn from
// the earlier case to the later one, with the date of contact, and `roots` names the index case first, then
// the earliest case of each part not linked to it. The layout is a tree (breadth-first from those roots, so
// the index case sits at the top and every generation one row below), without animation. Large clusters come
// summarised (one node per street), so the browser never lays out more than a bounded number of nodes. A text
// list of the links follows the graph for keyboard and screen-reader users.
function cordonChainGraph(elementId, noteId, texts) {
  var el = document.getElementById(elementId);
  var note = document.getElementById(noteId);
  var list = document.getElementById(el.dataset.list);
  function fail(err) { note.textContent = texts.failed + " " + String(err); }
  fetch(el.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (g) {
      if (!g.nodes.length) { note.textContent = texts.empty; el.hidden = true; return; }
      note.textContent = (g.summarised ? texts.summarised : texts.full) + " (" + g.total + ")";
      el.dataset.nodes = String(g.nodes.length);
      var big = g.nodes.length > 300;
      var labels = {};
      g.nodes.forEach(function (n) { labels[n.id] = n.label; });
      var elements = g.nodes.map(function (n) {
        return { data: Object.assign({}, n, { index: n.id === g.index }) };
      }).concat(g.edges.map(function (e, i) {
        var when = e.date ? e.date.slice(5) : "";
        return { data: { id: "e" + i, source: e.source, target: e.target, count: e.count || 1, when: when } };
      }));
      var cy = cytoscape({
        container: el, elements: elements, wheelSensitivity: 0.3,
        textureOnViewport: true, hideEdgesOnViewport: big,
        style: [
          { selector: "node", style: { "label": "data(label)", "font-size": 10, "width": 16, "height": 16, "background-color": "#0b5cad", "text-valign": "bottom", "text-margin-y": 3 } },
          { selector: "node[?community]", style: { "background-color": "#c0392b" } },
          { selector: "node[?index]", style: { "shape": "star", "width": 26, "height": 26, "border-width": 2, "border-color": "#16202c", "font-weight": "bold" } },
          { selector: "node[size]", style: { "width": "mapData(size, 1, 500, 16, 60)", "height": "mapData(size, 1, 500, 16, 60)" } },
          { selector: "edge", style: {
            "width": "mapData(count, 1, 50, 1, 6)", "line-color": "#9fb1c4", "target-arrow-color": "#9fb1c4",
            "target-arrow-shape": "triangle", "curve-style": big ? "haystack" : "bezier",
            "label": big ? "" : "data(when)", "font-size": 9, "color": "#5f6b7a",
            "text-background-color": "#fbfcfd", "text-background-opacity": 1, "text-rotation": "autorotate" } }
        ],
        layout: {
          name: "breadthfirst", roots: g.roots, directed: false, animate: false,
          spacingFactor: big ? 1 : 1.25, avoidOverlap: true, nodeDimensionsIncludeLabels: true
        }
      });
      cy.on("tap", "node", function (evt) {
        var id = evt.target.id();
        if (!g.summarised && /^\d+$/.test(id)) { window.location.href = "/tracing/cases/" + id + "/"; }
      });
      if (list) {
        if (g.index && !g.summarised) {
          var head = document.createElement("li");
          head.textContent = texts.index + " " + labels[g.index];
          list.appendChild(head);
        }
        g.edges.slice(0, 500).forEach(function (e) {
          var li = document.createElement("li");
          li.textContent = labels[e.source] + " → " + labels[e.target] + (e.date ? " · " + e.date : "") + (e.count > 1 ? " (" + e.count + ")" : "");
          list.appendChild(li);
        });
      }
      el.cordonGraph = cy;
      el.dataset.ready = "1";
    })
    .catch(fail);
}
