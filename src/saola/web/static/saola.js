/* Saola web shell: the offline map component and small page helpers (no framework, nothing downloaded). */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function pane(map, name, zIndex) {
    var p = map.getPane(name) || map.createPane(name);
    p.style.zIndex = String(zIndex);
    return name;
  }

  // The offline basemap: Vietnam's provinces as faint context (canvas), the province's wards
  // and its outline as SVG paths (crisp, hoverable, one element per ward).
  function addBasemap(map, el) {
    var tileUrl = el.dataset.tileUrl;
    if (tileUrl) {
      L.tileLayer(tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var context = pane(map, "saola-context", 350);
    var outline = pane(map, "saola-outline", 450);
    var layers = {};
    var lang = document.documentElement.lang;
    var done = Promise.all([
      getJSON("/geo/provinces.geojson").then(function (gj) {
        layers.provinces = L.geoJSON(gj, {
          pane: context, renderer: L.canvas({ pane: context }), interactive: false,
          style: { color: "#b7c2bd", weight: 1, fillColor: "#eef2ef", fillOpacity: tileUrl ? 0 : 0.9 }
        }).addTo(map);
      }),
      getJSON("/geo/wards.geojson").then(function (gj) {
        var renderer = L.svg({ padding: 0.5 });
        var base = { color: "#3f8f6f", weight: 1, fillColor: "#cfeadc", fillOpacity: tileUrl ? 0.08 : 0.7 };
        layers.wards = L.geoJSON(gj, {
          renderer: renderer,
          style: function () { return base; },
          onEachFeature: function (f, layer) {
            var p = f.properties || {};
            var name = lang === "en" ? (p.fullNameEn || p.fullName) : p.fullName;
            layer.bindTooltip(name + " · " + p.code, { sticky: true, className: "saola-tip" });
            layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#0b6e4f", fillColor: "#a9dcc2" }); });
            layer.on("mouseout", function () { layers.wards.resetStyle(layer); });
          }
        }).addTo(map);
      }),
      getJSON("/geo/province.geojson").then(function (gj) {
        layers.province = L.geoJSON(gj, {
          pane: outline, renderer: L.svg({ pane: outline }), interactive: false,
          style: { color: "#0b6e4f", weight: 3, fill: false }
        }).addTo(map);
        map.fitBounds(layers.province.getBounds(), { padding: [12, 12], animate: false });
      })
    ]).then(function () {
      el.dataset.loaded = "true";
      el.dataset.wards = String(layers.wards.getLayers().length);
      el.dispatchEvent(new CustomEvent("saola:map-ready", { bubbles: true, detail: { map: map, layers: layers } }));
    }, function (err) {
      el.dataset.loaded = "error";
      if (window.console) { window.console.error("Saola map:", err); }
    });
    map.saolaLayers = layers;
    return done;
  }

  function initMap(el) {
    if (el._saolaMap) { return el._saolaMap; }
    var map = L.map(el, { preferCanvas: true, attributionControl: true, zoomSnap: 0.25 });
    map.setView([21.2, 106.2], 9);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(escapeHtml(el.dataset.boundaryCredit ||
      "Ranh giới hành chính: NXB Tài nguyên Môi trường và Bản đồ Việt Nam (sapnhap.bando.com.vn)"));
    el._saolaMap = map;
    window.saolaMaps = window.saolaMaps || {};
    window.saolaMaps[el.id || "map"] = map;
    addBasemap(map, el);
    return map;
  }

  function initMaps(root) {
    if (typeof L === "undefined") { return; }
    (root || document).querySelectorAll("[data-saola-map]").forEach(initMap);
  }

  // --- page helpers --------------------------------------------------------

  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    closeMenus(t.closest ? t.closest("details.user-menu") : null);

    // [data-toggle=id]: show or hide the element with that id (a menu, a form); links stay links without JS.
    var toggle = t.closest && t.closest("[data-toggle]");
    if (toggle) {
      var target = document.getElementById(toggle.dataset.toggle);
      if (target) {
        e.preventDefault();
        var open = target.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        if (open && target.classList.contains("collapsible")) {
          var first = target.querySelector("input:not([type=hidden]), select");
          if (first) { first.focus(); }
        }
      }
    }

    var copy = t.closest && t.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.classList.add("done");
          if (copy.dataset.copied) { copy.lastChild.textContent = " " + copy.dataset.copied; }
        });
      } else if (source) {
        var range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
      }
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { closeMenus(null); }
  });

  // <form data-confirm="Are you sure?">: ask before submitting.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  }, true);

  // <input data-filter="#table">: hide the table rows that do not contain the typed text.
  document.addEventListener("input", function (e) {
    var input = e.target;
    if (!input.dataset || !input.dataset.filter) { return; }
    var needle = input.value.trim().toLowerCase();
    document.querySelectorAll(input.dataset.filter + " tbody tr").forEach(function (row) {
      row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
    });
  });

  document.addEventListener("DOMContentLoaded", function () { initMaps(document); });
  document.addEventListener("htmx:load", function (e) { initMaps(e.target); });
  window.Saola = { initMap: initMap };
})();
