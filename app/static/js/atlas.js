// The map page's entry module: it wires the filter form, one map layer per feature source, the
// legend and the list, and keeps them in step with the URL. The map itself comes from folium;
// data come as JSON from our API. Every text from the data is set with textContent (never as
// HTML), so names like "<img onerror>" stay plain text.
//
// Settings arrive in #atlas[data-config] (JSON). Its "sources" list declares each feature
// source: key, label, map/list/detail URLs, marker classes and filter parameters. The first
// source is the one the filter form and the list belong to; every filter rule below is read
// from those declarations (see atlas/state.js).
//
//   atlas/dom.js           small DOM and text helpers, getJson
//   atlas/state.js         filter form <-> query parameters <-> address bar
//   atlas/source-layer.js  SourceLayer: one Leaflet layer per source, markers by key
//   atlas/legend.js        the legend control (one entry per source)
//   atlas/popups.js        popup contents per source
//   atlas/list.js          the list and its pagination
//   atlas/signals.js       data-loaded / data-loads / counts on #atlas
import { element, fill } from "./atlas/dom.js";
import { createLegend } from "./atlas/legend.js";
import { createList } from "./atlas/list.js";
import { popupBuilder } from "./atlas/popups.js";
import { createSignals } from "./atlas/signals.js";
import { SourceLayer, mapStats } from "./atlas/source-layer.js";
import {
  activeFilterCount,
  applyHashView,
  filterQuery,
  keepViewInUrl,
  pageFromUrl,
  parameterOf,
  placeParameter,
  resetForm,
  takesEffect,
  updateUrl,
} from "./atlas/state.js";

const root = document.getElementById("atlas");
const config = JSON.parse(root.dataset.config);
const labels = config.labels;
const map = window[config.mapName];
const form = document.getElementById("filter-form");
const sortSelect = document.getElementById("f-sort");
const countBox = document.getElementById("employer-count");
const errorBox = document.getElementById("filter-error");
const pickButton = document.getElementById("pick-point");
const limitedNote = document.getElementById("map-limited");
const filterPanel = document.getElementById("filters");

const DEFAULT_MARKER = { className: "atlas-feature", clusterClassName: "atlas-feature-cluster" };
const sources = (config.sources || []).map((source) => ({
  ...source,
  parameters: source.parameters || [],
  marker: { ...DEFAULT_MARKER, ...(source.marker || {}) },
}));
if (!sources.length) throw new Error("atlas.js: #atlas[data-config] declares no \"sources\".");
// The filter form and the list belong to the first source.
const primary = sources[0];
const parameters = primary.parameters;
const place = placeParameter(parameters);
const placeInput = place ? form.elements.namedItem(place.name) : null;
const signals = createSignals(root);

// --- query parameters --------------------------------------------------------------------------
function filterParams() {
  return filterQuery(form, parameters);
}

function hasPlace() {
  return Boolean(placeInput && placeInput.value.trim());
}

// The list's parameters: the filter, the order when it is not the server's default, and the page.
function listParams(page = 1) {
  const params = filterParams();
  if (sortSelect.value !== "name" || (place && params.has(place.name))) params.set("sort", sortSelect.value);
  if (page > 1) params.set("page", String(page));
  return params;
}

// Links to an entry's page carry the filter, so its back link returns to the same search.
function detailHref(source) {
  const template = source.detailUrl || (source === primary ? config.detailUrl : null);
  return (properties) => {
    if (!template || !properties.slug) return null;
    const params = filterParams();
    const query = params.toString() ? `?${params}` : "";
    return `${template.replace("__slug__", encodeURIComponent(properties.slug))}${query}`;
  };
}

// --- the layers, the legend and the list -------------------------------------------------------
const legend = createLegend(map, labels.legend);
const layers = sources.map((source) => {
  const sourceLabels = { ...labels, ...(source.labels || {}) };
  const popup = popupBuilder(source);
  const context = { labels: sourceLabels, detailHref: detailHref(source), source };
  return new SourceLayer(map, source, {
    labels: sourceLabels,
    query: () => filterQuery(form, source.parameters),
    popup: (properties) => popup(properties, context),
    legend,
  });
});
const [primaryLayer, ...otherLayers] = layers;

const list = createList({
  listUrl: primary.listUrl || config.listUrl,
  pageUrl: config.pageUrl,
  labels,
  sizes: config.sizes,
  language: config.language,
  detailHref: detailHref(primary),
  query: listParams,
  elements: {
    list: document.getElementById("employer-list"),
    empty: document.getElementById("list-empty"),
    count: countBox,
    pagination: document.getElementById("pagination"),
    heading: document.getElementById("list-heading"),
  },
});

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

// --- loading -----------------------------------------------------------------------------------
// A further source that fails to load is emptied but does not hide the employers or their message.
async function loadSecondary(layer) {
  try {
    await layer.load();
  } catch (error) {
    layer.clear();
    console.warn(`atlas.js: source "${layer.key}" could not be loaded`, error);
  }
}

async function loadMap() {
  const [data] = await Promise.all([primaryLayer.load(), ...otherLayers.map(loadSecondary)]);
  if (!data) return; // a newer load has started; its answer sets the numbers
  const stats = mapStats(data);
  limitedNote.hidden = !stats.limited;
  signals.stats(stats);
}

async function refresh({ list: withList = true } = {}) {
  signals.begin();
  updateUrl(config.pageUrl, withList ? listParams() : listParams(pageFromUrl()), map);
  try {
    await Promise.all([loadMap(), withList ? list.load() : null]);
    clearError();
  } catch (error) {
    showError(error);
    if (error && error.parameter) {
      for (const layer of layers) layer.clear();
      list.clear();
    }
  } finally {
    signals.end();
  }
}

function updateFilterBadge() {
  const summary = filterPanel.querySelector("summary");
  const count = activeFilterCount(filterParams(), parameters);
  let badge = summary.querySelector(".badge");
  if (!count) {
    if (badge) badge.remove();
    return;
  }
  if (!badge) {
    badge = element("span", "badge");
    summary.append(" ", badge);
  }
  badge.textContent = fill(labels.activeFilters, { n: count });
}

// --- wiring ------------------------------------------------------------------------------------
// Typed fields (search, place) do not load on every change: free text waits for a pause in
// typing, the place loads when it is committed (Enter or leaving the field).
const isTyped = (control) => control.tagName === "INPUT" && (control.type === "search" || control.type === "text");

form.addEventListener("submit", (event) => {
  event.preventDefault();
  updateFilterBadge();
  refresh();
});
form.addEventListener("change", (event) => {
  const parameter = parameterOf(parameters, event.target.name);
  if (!parameter || isTyped(event.target)) return;
  if (!takesEffect(form, parameter)) return; // e.g. a radius while no place is given
  updateFilterBadge();
  refresh();
});

let typing;
for (const parameter of parameters) {
  if (parameter === place) continue;
  for (const control of [...form.elements].filter((item) => item.name === parameter.name && isTyped(item))) {
    control.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        updateFilterBadge();
        refresh();
      }, 400);
    });
  }
}

// Until the user picks an order, the list follows the server's default: by distance when a
// place is given, else by name.
let sortChosen = new URLSearchParams(location.search).has("sort");
sortSelect.addEventListener("change", () => {
  sortChosen = true;
  refresh();
});

function syncSortWithPlace() {
  const option = sortSelect.querySelector("option[value=distance]");
  if (!option) return;
  option.disabled = !hasPlace();
  if (!hasPlace() && sortSelect.value === "distance") sortSelect.value = "name";
  else if (hasPlace() && !sortChosen) sortSelect.value = "distance";
}

if (placeInput) {
  placeInput.addEventListener("change", () => {
    syncSortWithPlace();
    updateFilterBadge();
    refresh();
  });
  placeInput.addEventListener("input", syncSortWithPlace);
}

document.getElementById("reset-filters").addEventListener("click", (event) => {
  event.preventDefault();
  resetForm(form, parameters);
  sortChosen = false;
  syncSortWithPlace();
  updateFilterBadge();
  refresh();
});

pickButton.hidden = !placeInput;
pickButton.addEventListener("click", () => {
  map.getContainer().classList.add("picking");
  errorBox.hidden = true;
  countBox.textContent = labels.pickPoint;
  map.once("click", (event) => {
    map.getContainer().classList.remove("picking");
    placeInput.value = `${event.latlng.lat.toFixed(5)},${event.latlng.lng.toFixed(5)}`;
    syncSortWithPlace();
    updateFilterBadge();
    refresh();
  });
});

let moving;
map.on("moveend", () => {
  clearTimeout(moving);
  moving = setTimeout(async () => {
    keepViewInUrl(map);
    signals.begin();
    try {
      await loadMap();
    } catch (error) {
      showError(error);
    } finally {
      signals.end();
    }
  }, 150);
});

// On a phone the map comes first: the filter panel starts folded unless a filter or an error
// needs to be seen.
if (
  window.matchMedia("(max-width: 899px)").matches &&
  !activeFilterCount(filterParams(), parameters) &&
  errorBox.hidden
) {
  filterPanel.open = false;
}
applyHashView(map);
// The server rendered the list and count for this URL; the map data come now.
refresh({ list: false });
