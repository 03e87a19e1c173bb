/* The operations centre console (/console/ioc): live map layers, KPI tiles and the alert feed over
   server-sent events, keyboard shortcuts, charts, video-wall rotation. Vendored libraries only. */
(function () {
  "use strict";

  var cfg, t, nf, map, feedState = { items: [], selected: 0 };
  var layerState = {};  // key -> {def, features, group, lines, enabled, statuses:{key:bool}, loading}

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function esc(text) { var d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_m, k) { return values[k] == null ? "—" : num(values[k]); });
  }
  function num(v) { return typeof v === "number" ? nf.format(v) : String(v); }
  function csrf() { var m = $("meta[name=csrf-token]"); return m ? m.content : ""; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  // --- clock -------------------------------------------------------------------------------------------------

  function startClock() {
    var el = $(".ioc-clock");
    var f;
    try { f = new Intl.DateTimeFormat(cfg.lang === "en" ? "en-GB" : "vi-VN", { timeZone: cfg.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", day: "2-digit", month: "2-digit", hourCycle: "h23" }); }
    catch (e) { f = new Intl.DateTimeFormat(); }
    function tick() { el.textContent = f.format(new Date()); }
    tick();
    setInterval(tick, 1000);
  }

  function timeOf(iso) {
    var d = new Date(iso);
    if (isNaN(d)) { return ""; }
    try {
      return new Intl.DateTimeFormat(cfg.lang === "en" ? "en-GB" : "vi-VN", { timeZone: cfg.timezone, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", hourCycle: "h23" }).format(d);
    } catch (e) { return d.toLocaleString(); }
  }

  // --- map layers ----------------------------------------------------------------------------------------------

  function statusDef(layer, key) {
    for (var i = 0; i < layer.def.statuses.length; i++) { if (layer.def.statuses[i].key === key) { return layer.def.statuses[i]; } }
    return { key: key, label: t.unknown, color: "#98a2b3" };
  }

  function popupHtml(layer, f) {
    var p = f.properties || {};
    var s = statusDef(layer, p.status);
    var title = (cfg.lang === "en" && p.title_en) ? p.title_en : p.name;
    var html = "<div class=\"ioc-pop\"><b>" + esc(title || p.id) + "</b><br><code>" + esc(p.id) + "</code>" +
      "<br><i class=\"dot\" style=\"background:" + esc(s.color) + "\"></i> " + esc(s.label);
    if (p.address) { html += "<br>" + esc(p.address); }
    var skip = { id: 1, name: 1, layer: 1, status: 1, url: 1, address: 1, title_vi: 1, title_en: 1 };
    var rows = "";
    var attrs = Object.assign({}, p, p.attributes || {});
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (skip[k] || v == null || typeof v === "object") { return; }
      rows += "<tr><th>" + esc(k) + "</th><td>" + esc(typeof v === "number" ? num(v) : v) + "</td></tr>";
    });
    if (rows) { html += "<table>" + rows + "</table>"; }
    if (p.url) { html += "<a class=\"button primary\" data-testid=\"popup-details\" href=\"" + esc(p.url) + "\">" + esc(t.details) + " →</a>"; }
    return html + "</div>";
  }

  function draw(key) {
    var layer = layerState[key];
    if (!map || !layer) { return; }
    if (layer.group) { map.removeLayer(layer.group); }
    if (layer.lines) { map.removeLayer(layer.lines); }
    layer.group = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45, chunkedLoading: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        return L.divIcon({ html: "<span>" + n + "</span>", className: "ioc-cluster ioc-cluster-" + key,
                           iconSize: L.point(34, 34) });
      } });
    layer.lines = L.featureGroup();
    layer.markers = {};
    var counts = {};
    layer.features.forEach(function (f) {
      var p = f.properties || {};
      counts[p.status] = (counts[p.status] || 0) + 1;
      if (layer.statuses[p.status] === false || !f.geometry) { return; }
      var color = statusDef(layer, p.status).color;
      var item;
      if (f.geometry.type === "Point") {
        var c = f.geometry.coordinates;
        item = L.circleMarker([c[1], c[0]], { radius: key === "alerts" || key === "incidents" ? 9 : 6, color: "#fff",
          weight: 1.5, fillColor: color, fillOpacity: 0.95 });
        layer.group.addLayer(item);
      } else {
        item = L.geoJSON(f.geometry, { style: { color: color, weight: key === "traffic" ? 5 : 2, opacity: 0.9, fillOpacity: 0.2 } });
        layer.lines.addLayer(item);
      }
      item.bindPopup(function () { return popupHtml(layer, f); });
      item.feature = f;
      layer.markers[p.id] = item;
    });
    if (layer.enabled) { layer.lines.addTo(map); layer.group.addTo(map); }
    var total = layer.features.length;
    var countEl = $("[data-testid=layer-" + key + "-count]");
    if (countEl) { countEl.textContent = "(" + num(total) + ")"; }
    $all("[data-count^=\"" + key + ":\"]").forEach(function (el) {
      var s = el.dataset.count.split(":")[1];
      el.textContent = counts[s] ? " " + num(counts[s]) : "";
    });
    var li = $("li[data-layer=\"" + key + "\"]");
    if (li) { li.dataset.loaded = String(total); }
  }

  function load(key) {
    var layer = layerState[key];
    if (!layer || layer.loading) { return Promise.resolve(); }
    layer.loading = true;
    return getJSON(layer.def.url).then(function (gj) {
      layer.features = gj.features || [];
      layer.loading = false;
      draw(key);
    }, function () { layer.loading = false; });
  }

  var reloadTimers = {};
  function reloadSoon(key, delay) {
    if (!layerState[key] || !layerState[key].enabled || reloadTimers[key]) { return; }
    reloadTimers[key] = setTimeout(function () { reloadTimers[key] = null; load(key); }, delay);
  }

  function setupLayers(m) {
    map = m;
    if (map.options.maxZoom === undefined) { map.setMaxZoom(19); }
    cfg.layers.forEach(function (def) {
      var statuses = {};
      def.statuses.forEach(function (s) { statuses[s.key] = true; });
      layerState[def.key] = { def: def, features: [], enabled: def.default_on, statuses: statuses };
      if (def.default_on) { load(def.key); }
    });
    document.addEventListener("change", function (e) {
      var el = e.target;
      if (el.dataset.layerToggle) {
        var layer = layerState[el.dataset.layerToggle];
        layer.enabled = el.checked;
        if (layer.enabled) { if (layer.features.length) { draw(el.dataset.layerToggle); } load(el.dataset.layerToggle); }
        else { if (layer.group) { map.removeLayer(layer.group); } if (layer.lines) { map.removeLayer(layer.lines); } }
      } else if (el.dataset.statusToggle) {
        var parts = el.dataset.statusToggle.split(":");
        layerState[parts[0]].statuses[parts[1]] = el.checked;
        draw(parts[0]);
      }
    });
    setInterval(function () { Object.keys(layerState).forEach(function (k) { reloadSoon(k, 10); }); }, 60000);
    $("#ioc-map").dataset.layersReady = "true";
  }

  function focusFeature(key, id) {
    var layer = layerState[key];
    var item = layer && layer.markers && layer.markers[id];
    if (!item) { return false; }
    if (!layer.enabled) {
      layer.enabled = true;
      var box = $("[data-layer-toggle=\"" + key + "\"]");
      if (box) { box.checked = true; }
      draw(key);
      item = layer.markers[id];
    }
    if (item.getLatLng && layer.group.hasLayer(item)) {
      layer.group.zoomToShowLayer(item, function () { item.openPopup(); });
    } else if (item.getBounds) {
      map.fitBounds(item.getBounds(), { maxZoom: 16 });
      item.openPopup(item.getBounds().getCenter());
    }
    return true;
  }

  // --- search ---------------------------------------------------------------------------------------------------

  function setupSearch() {
    var input = $("#ioc-search");
    var list = $(".ioc-results");
    function results(q) {
      var needle = q.trim().toLowerCase();
      var out = [];
      if (needle.length < 2) { return out; }
      Object.keys(layerState).forEach(function (key) {
        layerState[key].features.forEach(function (f) {
          if (out.length >= 12) { return; }
          var p = f.properties || {};
          var hay = [p.id, p.name, p.address, p.code, p.subject, p.title_en].join(" ").toLowerCase();
          if (hay.indexOf(needle) !== -1) { out.push({ key: key, f: f }); }
        });
      });
      return out;
    }
    function show() {
      var found = results(input.value);
      list.innerHTML = "";
      if (input.value.trim().length < 2) { list.hidden = true; return; }
      if (!found.length) { list.innerHTML = "<li class=\"muted\">" + esc(t.noResults) + "</li>"; }
      found.forEach(function (r, i) {
        var p = r.f.properties || {};
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.layer = r.key;
        li.dataset.id = p.id;
        li.className = i === 0 ? "active" : "";
        li.innerHTML = "<b>" + esc(p.name || p.id) + "</b><small>" + esc(layerState[r.key].def.label) + " · " + esc(p.id) + (p.address ? " · " + esc(p.address) : "") + "</small>";
        list.appendChild(li);
      });
      list.hidden = false;
    }
    function pick(li) {
      if (!li || !li.dataset.id) { return; }
      list.hidden = true;
      focusFeature(li.dataset.layer, li.dataset.id);
    }
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); pick($("li.active", list) || $("li", list)); }
      if (e.key === "Escape") { list.hidden = true; input.blur(); }
    });
    list.addEventListener("click", function (e) { pick(e.target.closest("li")); });
  }

  // --- KPI tiles -----------------------------------------------------------------------------------------------

  var BAND_COLORS = { good: "#00e400", moderate: "#ffff00", poor: "#ff7e00", bad: "#ff0000", veryBad: "#8f3f97", hazardous: "#7e0023" };

  function tileText(key, v) {
    if (!v || v.error) { return { value: "—", detail: v && v.error ? t.error : t.noData }; }
    switch (key) {
      case "alerts":
        var parts = [];
        ["critical", "major", "minor", "warning", "info"].forEach(function (s) {
          if (v.by_severity && v.by_severity[s]) { parts.push(num(v.by_severity[s]) + " " + t[s].toLowerCase()); }
        });
        return { value: num(v.value), detail: parts.join(" · "), hot: v.by_severity && v.by_severity.critical > 0 };
      case "reports": return { value: num(v.open), detail: fmt(t.reportsDetail, v), hot: v.overdue > 0 };
      case "dossiers": return { value: v.value == null ? "—" : num(v.value) + " %", detail: fmt(t.dossiersDetail, v) };
      case "lamps": return { value: num(v.on), detail: fmt(t.lampsDetail, v), hot: v.faulty > 0 };
      case "devices": return { value: num(v.offline), detail: fmt(t.devicesDetail, v), hot: v.offline > 0 };
      case "aqi": return { value: v.value == null ? "—" : num(v.value), detail: (t[v.band] || "") + (v.name ? " · " + v.name : ""), color: BAND_COLORS[v.band], hot: v.value > 150 };
      case "traffic": return { value: num(v.congested), detail: fmt(t.trafficDetail, v), hot: v.congested > 0 };
      default: return { value: v.value == null ? "—" : num(v.value), detail: "", hot: v.value > 0 && key === "incidents" };
    }
  }

  function updateKpis(values) {
    Object.keys(values).forEach(function (key) {
      var tile = $("[data-kpi=\"" + key + "\"]");
      if (!tile) { return; }
      var text = tileText(key, values[key]);
      var valueEl = $(".kpi-value", tile);
      var changed = valueEl.textContent !== text.value;
      valueEl.textContent = text.value;
      $(".kpi-detail", tile).textContent = text.detail || "";
      tile.classList.toggle("hot", !!text.hot);
      tile.style.setProperty("--band", text.color || "transparent");
      tile.dataset.updated = String(Date.now());
      if (changed) { tile.classList.remove("flash"); void tile.offsetWidth; tile.classList.add("flash"); }
      if (key === "lamps") { reloadSoon("lamps", 5000); }
      if (key === "traffic") { reloadSoon("traffic", 5000); }
      if (key === "aqi") { reloadSoon("air", 5000); }
      if (key === "incidents") { reloadSoon("incidents", 500); }
      if (key === "reports") { reloadSoon("reports", 3000); }
    });
  }

  // --- the alert feed ------------------------------------------------------------------------------------------

  function stateLabel(a) {
    var s = a.display_state || a.state;
    return s === "acknowledged" ? t.acknowledged : s === "cleared-unacknowledged" ? t.cleared : t.active;
  }

  function renderFeed() {
    var list = $(".feed-list");
    list.innerHTML = "";
    feedState.items.forEach(function (a, i) {
      var li = document.createElement("li");
      var state = a.display_state || a.state;
      li.className = "feed-item sev-" + a.severity + (i === feedState.selected ? " selected" : "") + (a.fresh ? " fresh" : "");
      li.dataset.alertId = a.id;
      li.dataset.state = state;
      li.dataset.testid = "feed-item";
      li.setAttribute("data-testid", "feed-item");
      var title = cfg.lang === "en" ? (a.title_en || a.title_vi) : (a.title_vi || a.title_en);
      var subject = a.subject || "";
      var link = subject.indexOf("urn:") === 0 ? "<a href=\"/console/entities/" + encodeURIComponent(subject).replace(/%3A/g, ":") + "\">" + esc(subject) + "</a>" : esc(subject);
      var html = "<span class=\"sev\" style=\"background:" + esc(cfg.severities[a.severity] || "#98a2b3") + "\">" + esc(t[a.severity] || a.severity) + "</span>" +
        "<div class=\"feed-body\"><b class=\"feed-title\">" + esc(title) + "</b><small>" + link + "</small>" +
        "<small class=\"muted\">" + esc(timeOf(a.at)) + " · <span data-testid=\"feed-state\">" + esc(stateLabel(a)) + "</span>" +
        (a.occurrences > 1 ? " · " + esc(fmt(t.occurrences, { n: a.occurrences })) : "") + (a.acknowledged_by ? " · " + esc(a.acknowledged_by) : "") + "</small></div>" +
        "<div class=\"feed-actions\">";
      if (cfg.canAck && (state === "active" || state === "cleared-unacknowledged")) {
        html += "<button type=\"button\" class=\"primary\" data-ack=\"" + a.id + "\" data-testid=\"ack\">" + esc(t.acknowledge) + "</button>";
      }
      if (cfg.canIncident) {
        html += "<a class=\"button\" href=\"/console/incidents/new?alert=" + a.id + "\" data-testid=\"open-incident\">" + esc(t.openIncident) + "</a>";
      }
      li.innerHTML = html + "</div>";
      list.appendChild(li);
    });
    $(".feed-empty").hidden = feedState.items.length > 0;
    list.dataset.count = String(feedState.items.length);
  }

  function upsertAlert(a) {
    var state = a.display_state || a.state;
    var index = -1;
    feedState.items.forEach(function (x, i) { if (String(x.id) === String(a.id)) { index = i; } });
    if (state === "cleared") {  // cleared and acknowledged: leaves the feed
      if (index >= 0) { feedState.items.splice(index, 1); }
    } else if (index >= 0) {
      feedState.items[index] = Object.assign({}, feedState.items[index], a, { at: feedState.items[index].at });
    } else {
      feedState.items.unshift(Object.assign({ fresh: true }, a));
      if (feedState.selected > 0) { feedState.selected += 1; }
    }
    if (feedState.selected >= feedState.items.length) { feedState.selected = Math.max(0, feedState.items.length - 1); }
    renderFeed();
    reloadSoon("alerts", 300);
  }

  function acknowledge(id) {
    var button = $("[data-ack=\"" + id + "\"]");
    if (button) { button.disabled = true; }
    return fetch("/console/ioc/alerts/" + encodeURIComponent(id) + "/acknowledge", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { throw new Error(res.body.detail || res.body.title || t.ackFailed); }
      upsertAlert(res.body);
    }).catch(function (err) {
      if (button) { button.disabled = false; }
      window.alert(t.ackFailed + ": " + err.message);
    });
  }

  function selected() { return feedState.items[feedState.selected]; }

  function move(delta) {
    if (!feedState.items.length) { return; }
    feedState.selected = Math.max(0, Math.min(feedState.items.length - 1, feedState.selected + delta));
    renderFeed();
    var el = $(".feed-item.selected");
    if (el && el.scrollIntoView) { el.scrollIntoView({ block: "nearest" }); }
  }

  function setupFeed() {
    feedState.items = cfg.feed.slice();
    renderFeed();
    $(".feed-list").addEventListener("click", function (e) {
      var ack = e.target.closest("[data-ack]");
      if (ack) { acknowledge(ack.dataset.ack); return; }
      var li = e.target.closest(".feed-item");
      if (li && !e.target.closest("a")) {
        feedState.items.forEach(function (x, i) { if (String(x.id) === li.dataset.alertId) { feedState.selected = i; } });
        renderFeed();
        focusFeature("alerts", Number(li.dataset.alertId)) || focusFeature("alerts", li.dataset.alertId);
      }
    });
  }

  // --- keyboard shortcuts ------------------------------------------------------------------------------------

  function setupKeys() {
    var help = $("#ioc-help");
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || e.ctrlKey || e.metaKey || e.altKey) { return; }
      var a = selected();
      switch (e.key) {
        case "j": move(1); break;
        case "k": move(-1); break;
        case "a": if (a && cfg.canAck) { acknowledge(a.id); } break;
        case "i": if (a && cfg.canIncident) { window.location.href = "/console/incidents/new?alert=" + encodeURIComponent(a.id); } break;
        case "Enter": if (a) { focusFeature("alerts", a.id); } break;
        case "/": e.preventDefault(); $("#ioc-search").focus(); break;
        case "l": toggleLarge(); break;
        case "?": if (help.open) { help.close(); } else { help.showModal(); } break;
        default: return;
      }
    });
    $("[data-action=help]").addEventListener("click", function () { help.showModal(); });
  }

  // --- large text, video wall ------------------------------------------------------------------------------

  function toggleLarge(force) {
    var on = document.body.classList.toggle("large-text", force);
    $("[data-action=large-text]").setAttribute("aria-pressed", on ? "true" : "false");
    try { window.localStorage.setItem("saola-ioc-large", on ? "1" : "0"); } catch (e) { /* private mode */ }
    if (map) { setTimeout(function () { map.invalidateSize(); }, 50); }
  }

  function setupWall() {
    $("[data-action=large-text]").addEventListener("click", function () { toggleLarge(); });
    var stored = null;
    try { stored = window.localStorage.getItem("saola-ioc-large"); } catch (e) { stored = null; }
    if (!cfg.wall && stored === "1") { toggleLarge(true); }
    if (!cfg.wall || !cfg.rotate) { return; }
    var body = $(".ioc-body");
    var i = 0;
    setInterval(function () {
      i = (i + 1) % cfg.views.length;
      body.dataset.view = cfg.views[i];
      if (cfg.views[i] === "map" && map) { map.invalidateSize(); }
    }, cfg.rotate * 1000);
  }

  // --- charts -------------------------------------------------------------------------------------------------

  var charts = {};
  var hourFormat = null;
  function hourLabel(iso) {
    if (!hourFormat) {
      try { hourFormat = new Intl.DateTimeFormat("vi-VN", { timeZone: cfg.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
      catch (e) { hourFormat = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
    }
    var d = new Date(iso);
    return isNaN(d) ? "" : hourFormat.format(d);
  }

  function drawCharts(data) {
    if (typeof Chart === "undefined") { return; }
    [["alerts", "alerts_per_hour", "bar", t.alertsPerHour, "#e04f16"], ["aqi", "average_aqi", "line", t.averageAqi, "#0b6e4f"]].forEach(function (c) {
      var series = data[c[1]] || { labels: [], values: [] };
      var canvas = document.getElementById("chart-" + c[0]);
      if (charts[c[0]]) { charts[c[0]].destroy(); }
      charts[c[0]] = new Chart(canvas, {
        type: c[2],
        data: { labels: series.labels.map(hourLabel), datasets: [{ label: c[3], data: series.values, backgroundColor: c[4], borderColor: c[4], spanGaps: true, pointRadius: 2, tension: 0.2 }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                   scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
      canvas.dataset.points = String(series.values.length);
    });
  }

  function loadCharts() { getJSON(cfg.charts).then(drawCharts, function () { /* retried later */ }); }

  // --- the live stream ----------------------------------------------------------------------------------------

  function setLive(state) {
    var el = $(".ioc-live");
    el.dataset.state = state;
    $("span", el).textContent = state === "live" ? t.live : t.offline;
  }

  function connect() {
    if (typeof EventSource === "undefined") { return; }
    var source = new EventSource(cfg.stream);
    source.onopen = function () { setLive("live"); };
    source.onerror = function () { setLive("offline"); };
    source.addEventListener("kpis", function (e) { setLive("live"); updateKpis(JSON.parse(e.data)); });
    source.addEventListener("alert", function (e) {
      var a = JSON.parse(e.data);
      upsertAlert(a);
      if (a.topic === "alert.raised") { document.title = "● " + document.title.replace(/^● /, ""); }
    });
    source.addEventListener("incident", function () { reloadSoon("incidents", 300); });
    window.saolaIocStream = source;
  }

  document.addEventListener("saola:map-ready", function (e) {
    if (e.target && e.target.id === "ioc-map") { setupLayers(e.detail.map); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("ioc-config");
    if (!node) { return; }
    cfg = JSON.parse(node.textContent);
    t = cfg.t;
    nf = new Intl.NumberFormat(cfg.lang === "en" ? "en-GB" : "vi-VN", { maximumFractionDigits: 1 });
    startClock();
    setupFeed();
    setupSearch();
    setupKeys();
    setupWall();
    connect();
    loadCharts();
    setInterval(loadCharts, 300000);
    window.addEventListener("focus", function () { document.title = document.title.replace(/^● /, ""); });
  });
})();
