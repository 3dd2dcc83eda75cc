// One Leaflet layer per feature source. A SourceLayer is built from the source's declaration
// (data-config "sources"): it fetches the source's own map data URL with the current filter,
// bbox and zoom, keeps its markers by key ("<source>:cluster:..." and "<source>:<id>") so that a
// reload keeps the same marker (and its open popup), draws clusters and points, and adds the
// source's entry to the legend.
import { element, fill, formatCount, getJson } from "./dom.js";
import { featureTitle } from "./popups.js";

// The map's bounding box as the API expects it: west,south,east,north, clamped to the globe.
function bboxParam(map) {
  const bounds = map.getBounds();
  return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
    .map((value, index) => Math.max(index % 2 ? -90 : -180, Math.min(index % 2 ? 90 : 180, value)).toFixed(5))
    .join(",");
}

// Every marker's icon is a tap target of at least 44 × 44 px (WCAG 2.5.5), its visible symbol
// centred in it (app.css). A cluster grows with the digits of its count; the server merges
// clusters that would overlap at this size (pipeline.MARKER_PIXELS).
export const TAP_TARGET = 44;

// A layer kind's markers take its colour from a CSS custom property (set through the style
// property, never as markup) and show its symbol (a point) or the count (a cluster).
function markerIcon(className, text, colour) {
  const width = Math.max(TAP_TARGET, 16 + 9 * text.length);
  const html = element("span", null, text);
  if (colour) html.style.setProperty("--layer-colour", colour);
  return L.divIcon({ html, className, iconSize: [width, TAP_TARGET] });
}

export class SourceLayer {
  // options: { labels, query: () => URLSearchParams (the filter for this source),
  //            popup: (properties, { lat, lon }) => Node, legend: { add(source) } | null }
  //            onToggle: (sourceLayer) => void, called when the legend switches the layer,
  //            placeholder: (properties, failed) => Node, a popup while its content loads }
  // A source that declares featureUrl ("…/__id__") sends only what its markers need
  // (properties=marker: id, slug, name); a popup fetches the feature's properties when it
  // first opens, showing placeholder(properties, false) meanwhile and placeholder(properties,
  // true) if they cannot be had (e.g. offline), and keeps them for the next time.
  // A source declared with initiallyShown: false (a layer kind) starts switched off; its legend
  // entry is a checkbox that switches it on and off.
  constructor(map, source, { labels, query, popup, placeholder = null, legend = null, onToggle = null }) {
    this.map = map;
    this.source = source;
    this.labels = labels;
    this.query = query;
    this.popup = popup;
    this.placeholder = placeholder;
    this.layer = L.layerGroup();
    this.shown = source.initiallyShown !== false;
    if (this.shown) this.layer.addTo(map);
    this.markers = new Map();
    this.request = 0;
    this.kind = source.layer || null;
    const toggle = (on) => {
      this.setShown(on);
      if (onToggle) onToggle(this);
    };
    this.legendEntry = legend ? legend.add(source, this.shown, toggle) : null;
  }

  // Switches the layer on (it loads with the next load()) or off (its markers go at once).
  setShown(on) {
    this.shown = on;
    this.request += 1;
    const attribution = this.kind && this.kind.attribution;
    if (on) {
      this.layer.addTo(this.map);
      if (attribution && this.map.attributionControl) this.map.attributionControl.addAttribution(escapeHtml(attribution));
    } else {
      for (const marker of this.markers.values()) marker.closePopup();
      this.clear();
      this.layer.remove();
      if (attribution && this.map.attributionControl) this.map.attributionControl.removeAttribution(escapeHtml(attribution));
    }
  }

  get colour() {
    return this.kind ? this.kind.colour : null;
  }

  get key() {
    return this.source.key;
  }

  markerKey(feature) {
    const properties = feature.properties;
    return properties.cluster
      ? `${this.key}:cluster:${feature.geometry.coordinates}:${properties.count}`
      : `${this.key}:${feature.id}`;
  }

  cluster(lat, lon, properties) {
    const title = fill(this.labels.cluster, { n: formatCount(properties.count, document.documentElement.lang) });
    const marker = L.marker([lat, lon], {
      icon: markerIcon(this.source.marker.clusterClassName, String(properties.count), this.colour),
      title,
      alt: title,
      keyboard: true,
    });
    const open = () => {
      const [west, south, east, north] = properties.bbox;
      if (west === east && south === north) this.map.setView([lat, lon], this.map.getZoom() + 2);
      else this.map.fitBounds([[south, west], [north, east]], { padding: [24, 24] });
    };
    marker.on("click", open);
    // Leaflet's Enter on a focused marker only opens its popup, and a cluster has none: Enter
    // and Space open the cluster as a click does (the icon is a button).
    marker.on("keypress", (event) => {
      if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") {
        event.originalEvent.preventDefault();
        open();
      }
    });
    marker.isCluster = true;
    return marker;
  }

  point(lat, lon, properties, id) {
    const title = featureTitle(properties, this.source);
    const marker = L.marker([lat, lon], {
      icon: markerIcon(this.source.marker.className, this.kind ? this.kind.symbol : "", this.colour),
      title,
      alt: title,
      keyboard: true,
    });
    const size = this.map.getSize();
    const options = {
      // Clear of the zoom buttons (top left) and of the legend and attribution (bottom); narrow
      // and low enough for a phone's map (a longer content scrolls inside the popup).
      autoPanPaddingTopLeft: L.point(64, 12),
      autoPanPaddingBottomRight: L.point(8, 104),
      maxWidth: Math.max(200, Math.min(300, size.x - 120)),
      maxHeight: Math.max(160, size.y - 150),
    };
    if (!this.fetchesDetails) {
      marker.bindPopup(() => this.popup(properties, { lat, lon }), options);
      return marker;
    }
    let details = null;
    let failed = false;
    const content = () => (details ? this.popup(details, { lat, lon }) : this.placeholder(properties, failed));
    marker.bindPopup(content, options);
    marker.on("popupopen", async () => {
      if (details) return;
      const popup = marker.getPopup();
      if (failed) {
        failed = false;
        popup.update();
      }
      try {
        details = (await getJson(this.source.featureUrl.replace("__id__", encodeURIComponent(id)))).properties;
      } catch {
        failed = true;
      }
      if (marker.isPopupOpen()) popup.update();
    });
    return marker;
  }

  // Whether the popups fetch their content (the map data then carry only the markers').
  get fetchesDetails() {
    return Boolean(this.source.featureUrl && this.placeholder);
  }

  featureLayer(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    return feature.properties.cluster
      ? this.cluster(lat, lon, feature.properties)
      : this.point(lat, lon, feature.properties, feature.id);
  }

  // Loads the features for the current filter and view. Resolves with the response body, or
  // with null when a newer load has started meanwhile (its answer wins).
  async load() {
    if (!this.shown) return null;
    const request = ++this.request;
    const params = this.query();
    params.set("bbox", bboxParam(this.map));
    params.set("zoom", String(this.map.getZoom()));
    if (this.fetchesDetails) params.set("properties", "marker");
    const data = await getJson(`${this.source.mapUrl}?${params}`);
    if (request !== this.request) return null;
    const next = new Map();
    for (const feature of data.features) {
      const key = this.markerKey(feature);
      next.set(key, this.markers.get(key) || this.featureLayer(feature).addTo(this.layer));
    }
    for (const [key, marker] of this.markers) if (!next.has(key)) this.layer.removeLayer(marker);
    this.markers = next;
    return data;
  }

  clear() {
    this.layer.clearLayers();
    this.markers = new Map();
  }
}

// Leaflet's attribution is markup: a configured text goes in escaped.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The numbers the map shows, as the data-* signals on #atlas carry them.
export function mapStats(data) {
  const clusters = data.features.filter((feature) => feature.properties.cluster);
  return {
    total: data.total,
    matched: data.matched,
    markers: data.features.length - clusters.length,
    clusters: clusters.length,
    clusterSum: data.features.reduce((sum, f) => sum + (f.properties.cluster ? f.properties.count : 1), 0),
    limited: Boolean(data.limited),
  };
}
