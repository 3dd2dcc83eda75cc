// The map page: filters, markers and clusters, and the list, kept in step with the URL.
// The map itself comes from folium; data come as JSON from our API. Every text from the data
// is set with textContent (never as HTML), so names like "<img onerror>" stay plain text.

const root = document.getElementById("atlas");
const config = JSON.parse(root.dataset.config);
const labels = config.labels;
const map = window[config.mapName];
const form = document.getElementById("filter-form");
const sortSelect = document.getElementById("f-sort");
const countBox = document.getElementById("employer-count");
const errorBox = document.getElementById("filter-error");
const list = document.getElementById("employer-list");
const listEmpty = document.getElementById("list-empty");
const pagination = document.getElementById("pagination");
const pickButton = document.getElementById("pick-point");
const limitedNote = document.getElementById("map-limited");
const filterPanel = document.getElementById("filters");
const LIST_KEYS = new Set(["sort", "page"]);

const layer = L.layerGroup().addTo(map);
// Markers on the map by key, so that a reload keeps the same marker (and its open popup).
let markers = new Map();
let mapRequest = 0;
let listRequest = 0;
// Load signals for tests and assistive tech: data-loaded is "true" once nothing is in flight.
let loads = 0;
let pending = 0;

// --- small DOM helpers -------------------------------------------------------------------------
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null && text !== "") node.textContent = text;
  return node;
}

function link(href, text, className) {
  const anchor = element("a", className, text);
  anchor.href = href;
  return anchor;
}

function fill(template, values) {
  return Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, value), template);
}

function formatKm(km) {
  return new Intl.NumberFormat(config.language, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(km);
}

function safeWebsite(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// --- the filter in the URL ---------------------------------------------------------------------
function filterParams() {
  const params = new URLSearchParams();
  const values = new Map();
  for (const [key, value] of new FormData(form)) {
    if (!value.trim()) continue;
    values.set(key, [...(values.get(key) || []), value.trim()]);
  }
  if (!values.has("near")) values.delete("radius_km");
  for (const [key, items] of values) params.set(key, items.join(","));
  return params;
}

function listParams(page = 1) {
  const params = filterParams();
  if (sortSelect.value !== "name" || params.has("near")) params.set("sort", sortSelect.value);
  if (page > 1) params.set("page", String(page));
  return params;
}

function detailQuery() {
  const params = filterParams();
  return params.toString() ? `?${params}` : "";
}

function viewHash() {
  const centre = map.getCenter();
  return `#map=${map.getZoom()}/${centre.lat.toFixed(5)}/${centre.lng.toFixed(5)}`;
}

function updateUrl(params) {
  const query = params.toString();
  history.replaceState(null, "", `${config.pageUrl}${query ? `?${query}` : ""}${viewHash()}`);
  // Signed-in staff see a link that exports the same selection.
  const exportLink = document.getElementById("export-link");
  if (exportLink) exportLink.search = query ? `?${query}` : "";
}

function applyHashView() {
  const match = /^#map=(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
  if (match) map.setView([Number(match[2]), Number(match[3])], Number(match[1]), { animate: false });
}

// --- messages ----------------------------------------------------------------------------------
function showError(body) {
  errorBox.textContent = body && body.parameter
    ? `${labels.checkInput} (${body.parameter}): ${body.message}`
    : labels.loadError;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

function countText(total) {
  return total === 1 ? labels.countOne : fill(labels.count, { n: total });
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw body || new Error(`HTTP ${response.status}`);
  return body;
}

// --- popups and the list -----------------------------------------------------------------------
function offerTexts(properties) {
  const offers = [];
  if (properties.offers_apprenticeships) offers.push(labels.apprenticeship);
  if (properties.offers_internships) offers.push(labels.internship);
  if (properties.open_positions === 1) offers.push(labels.jobsOne);
  else if (properties.open_positions > 1) offers.push(fill(labels.jobs, { n: properties.open_positions }));
  return offers;
}

function detailUrl(properties) {
  return `${config.detailUrl.replace("__slug__", encodeURIComponent(properties.slug))}${detailQuery()}`;
}

export function popupContent(properties) {
  const box = element("div", "employer-popup");
  box.append(element("h2", "employer-name", properties.name));
  if (properties.description) box.append(element("p", null, properties.description));
  const street = [properties.street, properties.house_number].filter(Boolean).join(" ");
  const town = [properties.postal_code, properties.town].filter(Boolean).join(" ");
  box.append(element("p", "employer-address", [street, town].filter(Boolean).join(", ")));
  const contact = element("ul", "employer-contact");
  if (properties.phone) {
    const item = element("li", null, `${labels.phone}: `);
    item.append(link(`tel:${properties.phone.replace(/[^+\d]/g, "")}`, properties.phone));
    contact.append(item);
  }
  if (properties.email) {
    const item = element("li", null, `${labels.email}: `);
    item.append(link(`mailto:${encodeURIComponent(properties.email).replace("%40", "@")}`, properties.email));
    contact.append(item);
  }
  const website = properties.website && safeWebsite(properties.website);
  if (website) {
    const item = element("li", null, `${labels.website}: `);
    item.append(link(website, properties.website));
    contact.append(item);
  }
  if (contact.children.length) box.append(contact);
  box.append(link(detailUrl(properties), labels.details, "details-link"));
  return box;
}

function listItem(item) {
  const entry = element("li", "employer-item");
  entry.append(link(detailUrl(item), item.name, "employer-link"));
  const meta = [`${item.postal_code} ${item.town}`.trim()];
  if (item.size_class) meta.push(config.sizes[item.size_class]);
  if (item.distance_km !== null && item.distance_km !== undefined) {
    meta.push(fill(labels.distance, { km: formatKm(item.distance_km) }));
  }
  entry.append(element("span", "employer-meta", meta.join(" · ")));
  const offers = offerTexts(item);
  if (offers.length) entry.append(element("span", "employer-offers", offers.join(" · ")));
  return entry;
}

function renderPagination(data) {
  pagination.replaceChildren();
  if (data.pages <= 1) return;
  const goTo = (page, text, rel) => {
    const anchor = link(`${config.pageUrl}?${listParams(page)}`, text);
    anchor.rel = rel;
    anchor.addEventListener("click", (event) => {
      event.preventDefault();
      loadList(page).then(() => document.getElementById("list-heading").scrollIntoView());
    });
    return anchor;
  };
  if (data.page > 1) pagination.append(goTo(data.page - 1, labels.previous, "prev"));
  pagination.append(element("span", null, fill(labels.page, { page: data.page, pages: data.pages })));
  if (data.page < data.pages) pagination.append(goTo(data.page + 1, labels.next, "next"));
}

async function loadList(page = 1) {
  const request = ++listRequest;
  const data = await getJson(`${config.listUrl}?${listParams(page)}`);
  if (request !== listRequest) return;
  list.replaceChildren(...data.items.map(listItem));
  listEmpty.hidden = data.total > 0;
  countBox.textContent = countText(data.total);
  renderPagination(data);
}

// --- markers and clusters ----------------------------------------------------------------------
function markerIcon(className, text) {
  const icon = element("span", null, text);
  return L.divIcon({ html: icon, className, iconSize: null });
}

function featureLayer(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const properties = feature.properties;
  if (properties.cluster) {
    const title = fill(labels.cluster, { n: properties.count });
    const marker = L.marker([lat, lon], {
      icon: markerIcon("atlas-cluster", String(properties.count)),
      title,
      alt: title,
      keyboard: true,
    });
    marker.on("click", () => {
      const [west, south, east, north] = properties.bbox;
      if (west === east && south === north) map.setView([lat, lon], map.getZoom() + 2);
      else map.fitBounds([[south, west], [north, east]], { padding: [24, 24] });
    });
    marker.isCluster = true;
    return marker;
  }
  const marker = L.marker([lat, lon], {
    icon: markerIcon("atlas-marker", ""),
    title: properties.name,
    alt: properties.name,
    keyboard: true,
  });
  marker.bindPopup(() => popupContent(properties));
  return marker;
}

async function loadMap() {
  const request = ++mapRequest;
  const params = filterParams();
  const bounds = map.getBounds();
  params.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
    .map((value, index) => Math.max(index % 2 ? -90 : -180, Math.min(index % 2 ? 90 : 180, value)).toFixed(5))
    .join(","));
  params.set("zoom", String(map.getZoom()));
  const data = await getJson(`${config.mapUrl}?${params}`);
  if (request !== mapRequest) return;
  const next = new Map();
  for (const feature of data.features) {
    const key = feature.properties.cluster
      ? `cluster:${feature.geometry.coordinates}:${feature.properties.count}`
      : `employer:${feature.id}`;
    next.set(key, markers.get(key) || featureLayer(feature).addTo(layer));
  }
  for (const [key, marker] of markers) if (!next.has(key)) layer.removeLayer(marker);
  markers = next;
  limitedNote.hidden = !data.limited;
  root.dataset.total = String(data.total);
  root.dataset.matched = String(data.matched);
  root.dataset.markers = String(data.features.filter((f) => !f.properties.cluster).length);
  root.dataset.clusters = String(data.features.filter((f) => f.properties.cluster).length);
  root.dataset.clusterSum = String(
    data.features.reduce((sum, f) => sum + (f.properties.cluster ? f.properties.count : 1), 0),
  );
}

function beginLoad() {
  pending += 1;
  root.dataset.loaded = "false";
  root.setAttribute("aria-busy", "true");
}

function endLoad() {
  pending -= 1;
  loads += 1;
  root.dataset.loads = String(loads);
  if (!pending) {
    root.dataset.loaded = "true";
    root.removeAttribute("aria-busy");
  }
}

async function refresh({ list: withList = true } = {}) {
  beginLoad();
  updateUrl(withList ? listParams() : listParams(currentPage()));
  try {
    await Promise.all([loadMap(), withList ? loadList() : null]);
    clearError();
  } catch (error) {
    showError(error);
    if (error && error.parameter) {
      layer.clearLayers();
      markers = new Map();
      list.replaceChildren();
      countBox.textContent = "";
    }
  } finally {
    endLoad();
  }
}

function currentPage() {
  return Number(new URLSearchParams(location.search).get("page") || 1);
}

function updateFilterBadge() {
  const summary = filterPanel.querySelector("summary");
  const params = filterParams();
  params.delete("radius_km");
  let badge = summary.querySelector(".badge");
  if (!params.size) {
    if (badge) badge.remove();
    return;
  }
  if (!badge) {
    badge = element("span", "badge");
    summary.append(" ", badge);
  }
  badge.textContent = fill(labels.activeFilters, { n: params.size });
}

// --- wiring ------------------------------------------------------------------------------------
let typing;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  updateFilterBadge();
  refresh();
});
form.addEventListener("change", (event) => {
  if (event.target.name === "q" || event.target.name === "near") return;
  if (event.target.name === "radius_km" && !form.elements.near.value.trim()) return;
  updateFilterBadge();
  refresh();
});
form.elements.q.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => { updateFilterBadge(); refresh(); }, 400);
});
form.elements.near.addEventListener("change", () => {
  syncSortWithPlace();
  updateFilterBadge();
  refresh();
});
// Until the user picks an order, the list follows the server's default: by distance when a
// place is given, else by name.
let sortChosen = new URLSearchParams(location.search).has("sort");
sortSelect.addEventListener("change", () => {
  sortChosen = true;
  refresh();
});

function syncSortWithPlace() {
  const hasPlace = Boolean(form.elements.near.value.trim());
  const option = sortSelect.querySelector("option[value=distance]");
  option.disabled = !hasPlace;
  if (!hasPlace && sortSelect.value === "distance") sortSelect.value = "name";
  else if (hasPlace && !sortChosen) sortSelect.value = "distance";
}

document.getElementById("reset-filters").addEventListener("click", (event) => {
  event.preventDefault();
  form.reset();
  for (const input of form.querySelectorAll("input[type=search], input[type=text]")) input.value = "";
  for (const box of form.querySelectorAll("input[type=checkbox]")) box.checked = false;
  for (const select of form.querySelectorAll("select")) select.selectedIndex = select.name === "radius_km" ? 2 : 0;
  sortChosen = false;
  syncSortWithPlace();
  updateFilterBadge();
  refresh();
});

pickButton.hidden = false;
pickButton.addEventListener("click", () => {
  map.getContainer().classList.add("picking");
  errorBox.hidden = true;
  countBox.textContent = labels.pickPoint;
  map.once("click", (event) => {
    map.getContainer().classList.remove("picking");
    form.elements.near.value = `${event.latlng.lat.toFixed(5)},${event.latlng.lng.toFixed(5)}`;
    syncSortWithPlace();
    updateFilterBadge();
    refresh();
  });
});
form.elements.near.addEventListener("input", syncSortWithPlace);

let moving;
map.on("moveend", () => {
  clearTimeout(moving);
  moving = setTimeout(async () => {
    history.replaceState(null, "", `${location.pathname}${location.search}${viewHash()}`);
    beginLoad();
    try {
      await loadMap();
    } catch (error) {
      showError(error);
    } finally {
      endLoad();
    }
  }, 150);
});

// On a phone the map comes first: the filter panel starts folded unless a filter or an error
// needs to be seen.
const activeFilters = [...filterParams().keys()].filter((key) => key !== "radius_km");
if (window.matchMedia("(max-width: 899px)").matches && !activeFilters.length && errorBox.hidden) {
  filterPanel.open = false;
}
applyHashView();
// The server rendered the list and count for this URL; the map data come now.
refresh({ list: false });
