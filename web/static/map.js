// The reports' map: markers from the JSON beside it; the table above stays the reference without it.
(function () {
  var box = document.getElementById("map");
  var data = document.getElementById("map-points");
  if (!box || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent || "[]");
  var map = L.map(box, { scrollWheelZoom: false });
  L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.marker([p.lat, p.lon], { title: p.ref, alt: p.ref }).addTo(map);
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.ref;
    marker.bindPopup(link);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) { map.fitBounds(bounds, { maxZoom: 16, padding: [20, 20] }); }
  else { map.setView([46.6, 2.4], 5); }
  box.classList.add("ready");
})();
