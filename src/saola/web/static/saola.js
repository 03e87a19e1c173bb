/* Saola web shell: the offline map component and small page helpers. */
(function () {
  "use strict";

  function addBasemap(map, el) {
    var tileUrl = el.dataset.tileUrl;
    if (tileUrl) {
      L.tileLayer(tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var layers = {};
    var done = Promise.all([
      fetch("/geo/provinces.geojson").then(function (r) { return r.json(); }).then(function (gj) {
        layers.provinces = L.geoJSON(gj, { interactive: false, style: { color: "#9aa5a0", weight: 1, fillColor: "#eef2ef", fillOpacity: tileUrl ? 0 : 0.6 } }).addTo(map);
      }),
      fetch("/geo/wards.geojson").then(function (r) { return r.json(); }).then(function (gj) {
        layers.wards = L.geoJSON(gj, {
          style: { color: "#4d7f6a", weight: 1, fillColor: "#d9efe3", fillOpacity: tileUrl ? 0.05 : 0.55 },
          onEachFeature: function (f, layer) {
            var p = f.properties || {};
            var lang = document.documentElement.lang;
            layer.bindTooltip((lang === "en" ? (p.fullNameEn || p.fullName) : p.fullName) + " · " + p.code, { sticky: true });
            layer.on("mouseover", function () { layer.setStyle({ weight: 2, color: "#0b6e4f" }); });
            layer.on("mouseout", function () { layers.wards.resetStyle(layer); });
          }
        }).addTo(map);
      }),
      fetch("/geo/province.geojson").then(function (r) { return r.json(); }).then(function (gj) {
        layers.province = L.geoJSON(gj, { interactive: false, style: { color: "#0b6e4f", weight: 3, fill: false } }).addTo(map);
        map.fitBounds(layers.province.getBounds(), { padding: [10, 10] });
      })
    ]).then(function () {
      map.getContainer().dataset.loaded = "true";
      map.getContainer().dispatchEvent(new CustomEvent("saola:map-ready", { detail: { map: map, layers: layers } }));
    });
    return done;
  }

  function initMap(el) {
    if (el._saolaMap) { return el._saolaMap; }
    var map = L.map(el, { preferCanvas: true, attributionControl: true, zoomSnap: 0.25 });
    map.setView([21.2, 106.2], 9);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Ranh giới: NXB TN-MT và Bản đồ Việt Nam");
    el._saolaMap = map;
    window.saolaMaps = window.saolaMaps || {};
    window.saolaMaps[el.id || "map"] = map;
    addBasemap(map, el);
    return map;
  }

  function initAll(root) {
    (root || document).querySelectorAll("[data-saola-map]").forEach(initMap);
  }

  document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  document.addEventListener("htmx:load", function (e) { initAll(e.target); });
  window.Saola = { initMap: initMap };
})();
