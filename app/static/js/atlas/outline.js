// The region's outline: the dissolved municipality boundaries (GET /api/region/outline, once
// they are imported) drawn as a thin line under the markers. It takes no clicks or taps and
// has no fill, so it never covers a marker; without boundaries (404) nothing is drawn.
const PANE = "atlas-outline";

export async function drawOutline(map, url) {
  if (!url) return null;
  let data;
  try {
    const response = await fetch(url, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) return null;
    data = await response.json();
  } catch {
    return null;
  }
  if (!map.getPane(PANE)) {
    const pane = map.createPane(PANE);
    pane.style.zIndex = 350; // above the tiles (200), under overlays (400) and markers (600)
    pane.style.pointerEvents = "none";
  }
  return L.geoJSON(data, {
    pane: PANE,
    interactive: false,
    style: { color: "#37474f", weight: 2, opacity: 0.7, fill: false, dashArray: "6 4" },
  }).addTo(map);
}
