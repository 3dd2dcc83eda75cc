// The searched circle on the map: the place's centre and its radius, drawn when the map data
// name a place (their "place": lon, lat, label, radius_km) and kept while the map is zoomed or
// moved; gone when the place is cleared. Neither shape takes clicks or taps (interactive: false),
// so they never cover a marker. A status line under the count says the same in words.
import { fill, formatKm } from "./dom.js";

export function createSearchArea(map, { labels, language, status }) {
  const group = L.layerGroup().addTo(map);
  let current = null;

  function clear() {
    group.clearLayers();
    current = null;
    status.textContent = "";
    status.hidden = true;
  }

  return {
    // Draws the place's circle (or removes it for null). With fit, a new circle is fitted into
    // the view. Returns true when the map view changed.
    show(place, { fit = true } = {}) {
      const key = place ? `${place.lat},${place.lon},${place.radius_km}` : null;
      if (key === current) return false;
      if (!place) {
        clear();
        return false;
      }
      group.clearLayers();
      current = key;
      const centre = [place.lat, place.lon];
      const circle = L.circle(centre, {
        radius: place.radius_km * 1000,
        interactive: false,
        className: "atlas-search-area",
        color: "#0b3d6b",
        weight: 2,
        dashArray: "6 4",
        fillOpacity: 0.06,
      }).addTo(group);
      L.circleMarker(centre, {
        radius: 6,
        interactive: false,
        className: "atlas-search-centre",
        color: "#fff",
        weight: 2,
        fillColor: "#0b3d6b",
        fillOpacity: 1,
      }).addTo(group);
      status.textContent = fill(labels.searchArea, { km: formatKm(place.radius_km, language), place: place.label });
      status.hidden = false;
      if (!fit) return false;
      const before = map.getCenter().toString() + map.getZoom();
      map.fitBounds(circle.getBounds(), { padding: [12, 12], animate: false });
      return map.getCenter().toString() + map.getZoom() !== before;
    },
    clear,
  };
}
