// One Leaflet layer per feature source. A SourceLayer is built from the source's declaration
// (data-config "sources"): it fetches the source's own map data URL with the current filter,
// bbox and zoom, keeps its markers by key ("<source>:cluster:..." and "<source>:<id>") so that a
// reload keeps the same marker (and its open popup), draws clusters and points, and adds the
// source's entry to the legend.
import { element, fill, getJson } from "./dom.js";
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

function markerIcon(className, text) {
  const width = Math.max(TAP_TARGET, 16 + 9 * text.length);
  return L.divIcon({ html: element("span", null, text), className, iconSize: [width, TAP_TARGET] });
}

export class SourceLayer {
  // options: { labels, query: () => URLSearchParams (the filter for this source),
  //            popup: (properties) => Node, legend: { add(source) } | null }
  constructor(map, source, { labels, query, popup, legend = null }) {
    this.map = map;
    this.source = source;
    this.labels = labels;
    this.query = query;
    this.popup = popup;
    this.layer = L.layerGroup().addTo(map);
    this.markers = new Map();
    this.request = 0;
    this.legendEntry = legend ? legend.add(source) : null;
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
    const title = fill(this.labels.cluster, { n: properties.count });
    const marker = L.marker([lat, lon], {
      icon: markerIcon(this.source.marker.clusterClassName, String(properties.count)),
      title,
      alt: title,
      keyboard: true,
    });
    marker.on("click", () => {
      const [west, south, east, north] = properties.bbox;
      if (west === east && south === north) this.map.setView([lat, lon], this.map.getZoom() + 2);
      else this.map.fitBounds([[south, west], [north, east]], { padding: [24, 24] });
    });
    marker.isCluster = true;
    return marker;
  }

  point(lat, lon, properties) {
    const title = featureTitle(properties, this.source);
    const marker = L.marker([lat, lon], {
      icon: markerIcon(this.source.marker.className, ""),
      title,
      alt: title,
      keyboard: true,
    });
    marker.bindPopup(() => this.popup(properties));
    return marker;
  }

  featureLayer(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    return feature.properties.cluster
      ? this.cluster(lat, lon, feature.properties)
      : this.point(lat, lon, feature.properties);
  }

  // Loads the features for the current filter and view. Resolves with the response body, or
  // with null when a newer load has started meanwhile (its answer wins).
  async load() {
    const request = ++this.request;
    const params = this.query();
    params.set("bbox", bboxParam(this.map));
    params.set("zoom", String(this.map.getZoom()));
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
