// Questionnaire helpers: a search box over long option lists (official labels and everyday
// words), and the draggable pin.
// Both only enhance: without JavaScript the full lists and the coordinates field still work.

// A picker with data-taxonomy also asks the vocabulary search (GET /api/taxonomies/search),
// so everyday words ("Bäcker", "Kfz-Werkstatt") show the options their filter codes name.
const searchUrl = document.querySelector("[data-search-url]")?.dataset.searchUrl;
const lang = document.documentElement.lang === "en" ? "en" : "de";

async function vocabularyCodes(kind, query, signal) {
  if (!searchUrl || !kind || query.trim().length < 2) return new Set();
  try {
    const params = new URLSearchParams({ q: query.trim().slice(0, 100), lang });
    const response = await fetch(`${searchUrl}?${params}`, { signal });
    if (!response.ok) return new Set();
    const found = await response.json();
    return new Set((found[kind] || []).map((hit) => hit.filter_code));
  } catch {
    return new Set();
  }
}

for (const box of document.querySelectorAll(".picker-search")) {
  const input = box.querySelector("input");
  const options = document.getElementById(input.dataset.picker);
  const kind = input.dataset.taxonomy;
  let pending = null;
  box.hidden = false;
  const show = (remote) => {
    const words = input.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    let group = null;
    let groupVisible = false;
    const finishGroup = () => { if (group) group.hidden = !groupVisible; };
    for (const node of options.children) {
      if (node.classList.contains("option-group")) {
        finishGroup();
        group = node;
        groupVisible = false;
        continue;
      }
      const text = node.textContent.toLocaleLowerCase();
      const groupText = group ? group.textContent.toLocaleLowerCase() : "";
      const checkbox = node.querySelector("input");
      const local = words.every((word) => text.includes(word) || groupText.includes(word));
      const suggested = words.length > 0 && remote.has(checkbox.value);
      const match = checkbox.checked || local || suggested;
      node.hidden = !match;
      node.classList.toggle("suggested", suggested);
      if (match) groupVisible = true;
    }
    finishGroup();
  };
  input.addEventListener("input", () => {
    show(new Set());
    if (!kind) return;
    pending?.abort();
    pending = new AbortController();
    const { signal } = pending;
    const query = input.value;
    setTimeout(async () => {
      if (signal.aborted) return;
      const remote = await vocabularyCodes(kind, query, signal);
      if (signal.aborted || input.value !== query) return;
      show(remote);
      options.dataset.vocabulary = query; // the suggestions for this query are shown
    }, 150);
  });
}

const pinBox = document.getElementById("pin-map");
if (pinBox) {
  const map = window[pinBox.dataset.mapName];
  const input = document.getElementById(pinBox.dataset.input);
  const postalCode = document.getElementById("f-postal_code");
  let moved = Boolean(input.value.trim());
  const marker = L.marker(map.getCenter(), {
    draggable: true,
    keyboard: true,
    title: pinBox.dataset.label,
    alt: pinBox.dataset.label,
    autoPan: true,
  }).addTo(map);
  // The coordinates stay in a hidden field; the reader sees whether a point is set.
  const status = document.getElementById(`p-${input.name}`);
  input.type = "hidden";
  if (status) status.hidden = false;
  const write = (latlng) => {
    input.value = `${latlng.lat.toFixed(6)},${latlng.lng.toFixed(6)}`;
    pinBox.dataset.point = input.value;
    if (status) status.textContent = status.dataset.setText;
  };
  const place = (lat, lon) => {
    marker.setLatLng([lat, lon]);
    map.setView([lat, lon], Math.max(map.getZoom(), 15));
  };
  // The field stays empty until a point is chosen or suggested: then the server falls back to
  // the postal code's point, never to wherever the map happened to be centred.
  if (input.value.trim()) {
    const [lat, lon] = input.value.split(",").map(Number);
    if (Number.isFinite(lat) && Number.isFinite(lon)) place(lat, lon);
  }
  marker.on("dragend", () => { moved = true; write(marker.getLatLng()); });
  map.on("click", (event) => { moved = true; marker.setLatLng(event.latlng); write(event.latlng); });
  input.addEventListener("change", () => {
    const [lat, lon] = input.value.split(",").map(Number);
    if (Number.isFinite(lat) && Number.isFinite(lon)) { moved = true; place(lat, lon); }
  });
  // Until the owner moves the pin, every change of the address asks the server for a guess.
  const addressFields = ["postal_code", "street", "house_number", "town"]
    .map((name) => document.getElementById(`f-${name}`))
    .filter(Boolean);
  const suggest = async () => {
    if (moved || !postalCode || !/^\d{5}$/.test(postalCode.value.trim())) return;
    const query = new URLSearchParams();
    for (const field of addressFields) query.set(field.name, field.value.trim());
    const response = await fetch(`${pinBox.dataset.suggestUrl}?${query}`);
    if (!response.ok || moved) return;
    const point = await response.json();
    place(point.lat, point.lon);
    write(marker.getLatLng());
  };
  for (const field of addressFields) field.addEventListener("change", suggest);
  pinBox.dataset.ready = "true";
}
