/* The console's entity browser: entity markers on the offline map (clustered) and the history chart.
   Works on the pages of saola/context/templates/entities; nothing is downloaded from elsewhere. */
(function () {
  "use strict";

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  // --- the map: one clustered marker per entity with a location -------------------------------

  function features(el) {
    var source = document.getElementById(el.dataset.entityFeatures);
    if (!source) { return []; }
    try { return JSON.parse(source.textContent) || []; } catch (err) { return []; }
  }

  function drawEntities(el, map) {
    var items = features(el);
    if (map.options.maxZoom === undefined) { map.setMaxZoom(18); }  // clustering needs a top zoom level
    var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
    var shapes = L.featureGroup();
    items.forEach(function (f) {
      if (!f.geometry) { return; }
      var shape = L.geoJSON(f.geometry, { style: { color: "#175cd3", weight: 3, fillOpacity: 0.15 } });
      var bounds = shape.getBounds();
      if (!bounds.isValid()) { return; }
      if (f.geometry.type !== "Point") { shapes.addLayer(shape); }
      var p = f.properties || {};
      var marker = L.marker(bounds.getCenter(), { title: p.name || f.id, alt: p.name || f.id });
      var html = "<b>" + escapeHtml(p.name || f.id) + "</b><br><span>" + escapeHtml(p.type || "") + "</span>";
      if (p.url) { html += "<br><a href=\"" + escapeHtml(p.url) + "\">" + escapeHtml(f.id) + "</a>"; }
      marker.bindPopup(html);
      marker.entityId = f.id;
      clusters.addLayer(marker);
    });
    shapes.addTo(map);
    clusters.addTo(map);
    var layers = clusters.getLayers();
    if (layers.length) {
      var all = L.latLngBounds(layers.map(function (m) { return m.getLatLng(); }));
      if (shapes.getLayers().length) { all.extend(shapes.getBounds()); }
      map.fitBounds(all, { paddingTopLeft: [30, 50], paddingBottomRight: [30, 20], maxZoom: layers.length === 1 ? 15 : 16, animate: false });
    }
    map.saolaEntities = clusters;
    el.dataset.markers = String(layers.length);
  }

  document.addEventListener("saola:map-ready", function (e) {
    var el = e.target;
    if (el && el.dataset && el.dataset.entityFeatures && typeof L.markerClusterGroup === "function") {
      drawEntities(el, e.detail.map);
    }
  });

  // --- the history chart ---------------------------------------------------------------------

  var PALETTE = ["#0b6e4f", "#175cd3", "#b54708", "#6941c6", "#b42318", "#19b283"];

  function formatter(form) {
    var lang = form.dataset.lang === "en" ? "en-GB" : "vi-VN";
    var options = { timeZone: form.dataset.timezone || undefined, day: "2-digit", month: "2-digit",
                    hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    var f;
    try { f = new Intl.DateTimeFormat(lang, options); } catch (err) {  // an unknown time zone: the browser's
      options.timeZone = undefined;
      f = new Intl.DateTimeFormat(lang, options);
    }
    // Day first, as Vietnamese dates are written: "24/11 14:05".
    function time(ms) {
      var parts = {};
      f.formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
      return parts.day + "/" + parts.month + " " + parts.hour + ":" + parts.minute;
    }
    return { time: time, number: new Intl.NumberFormat(lang, { maximumFractionDigits: 3 }) };
  }

  function datasets(points) {
    var groups = {};
    var order = [];
    points.forEach(function (p) {
      var key = p.d || "";
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push({ x: Date.parse(p.t), y: p.v });
    });
    return order.map(function (key, i) {
      var color = PALETTE[i % PALETTE.length];
      return { key: key, data: groups[key], borderColor: color, backgroundColor: color, pointRadius: 2,
               borderWidth: 2, tension: 0 };
    });
  }

  function drawChart(form, canvas, body) {
    var fmt = formatter(form);
    var sets = datasets(body.points);
    sets.forEach(function (s) {
      s.label = body.attribute + (s.key ? " · " + s.key : "") + (body.unit ? " (" + body.unit + ")" : "");
    });
    if (canvas._chart) { canvas._chart.destroy(); }
    canvas._chart = new Chart(canvas, {
      type: "line",
      data: { datasets: sets },
      options: {
        animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", min: Date.parse(body.from), max: Date.parse(body.to),
               ticks: { maxTicksLimit: 8, callback: function (v) { return fmt.time(v); } } },
          y: { ticks: { callback: function (v) { return fmt.number.format(v); } } }
        },
        plugins: {
          legend: { display: true, position: "bottom" },
          tooltip: { callbacks: {
            title: function (items) { return items.length ? fmt.time(items[0].parsed.x) : ""; },
            label: function (item) { return item.dataset.label + ": " + fmt.number.format(item.parsed.y); }
          } }
        }
      }
    });
    canvas.dataset.points = String(body.points.length);
  }

  function loadHistory(form) {
    var canvas = document.getElementById("history-chart");
    var status = document.querySelector("[data-testid=history-status]");
    var errorBox = document.querySelector("[data-testid=history-error]");
    var params = new URLSearchParams(new FormData(form));
    if (params.get("range") !== "custom") { params.delete("start"); params.delete("end"); }
    canvas.dataset.state = "loading";
    return fetch(form.dataset.historyUrl + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { throw new Error(res.body.detail || res.body.title || form.dataset.failed); }
      errorBox.hidden = true;
      drawChart(form, canvas, res.body);
      var fmt = formatter(form);
      var span = fmt.time(Date.parse(res.body.from)) + " – " + fmt.time(Date.parse(res.body.to));
      status.textContent = res.body.points.length ? span + " · " + form.dataset.pointsLabel.replace(
        "{n}", fmt.number.format(res.body.total)) : span + " · " + form.dataset.empty;
      canvas.dataset.state = "ready";
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "?" + params.toString());
      }
    }).catch(function (err) {
      errorBox.textContent = err.message || form.dataset.failed;
      errorBox.hidden = false;
      canvas.dataset.state = "error";
    });
  }

  function toggleCustom(form) {
    var custom = form.elements.range.value === "custom";
    form.querySelectorAll(".custom-range").forEach(function (label) { label.hidden = !custom; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var form = document.getElementById("history-form");
    if (!form || typeof Chart === "undefined") { return; }
    toggleCustom(form);
    form.addEventListener("submit", function (e) { e.preventDefault(); loadHistory(form); });
    form.addEventListener("change", function (e) {
      toggleCustom(form);
      if (e.target.name === "attr" || (e.target.name === "range" && e.target.value !== "custom")) {
        loadHistory(form);
      }
    });
    loadHistory(form);
  });
})();
