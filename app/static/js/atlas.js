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
//   atlas/search-area.js   the searched place and radius drawn on the map
//   atlas/outline.js       the region's outline (imported municipality boundaries)
import { element, fill } from "./atlas/dom.js";
import { createLegend } from "./atlas/legend.js";
import { createList } from "./atlas/list.js";
import { drawOutline } from "./atlas/outline.js";
import { createSearchArea } from "./atlas/search-area.js";
import { placeholderPopup, popupBuilder } from "./atlas/popups.js";
import { createSignals } from "./atlas/signals.js";
import { SourceLayer, mapStats } from "./atlas/source-layer.js";
import {
  activeFilterCount,
  applyHashView,
  filterQuery,
  keepGivenValues,
  keepViewInUrl,
  pageFromUrl,
  parameterOf,
  placeParameter,
  rememberView,
  resetForm,
  takesEffect,
  updateUrl,
} from "./atlas/state.js";

const root = document.getElementById("atlas");
const config = JSON.parse(root.dataset.config);
const labels = {
  ...config.labels,
  familyNames: Object.fromEntries((config.family || []).map((criterion) => [criterion.code, criterion.label])),
};
const map = window[config.mapName];
const form = document.getElementById("filter-form");
const sortSelect = document.getElementById("f-sort");
const countBox = document.getElementById("employer-count");
const errorBox = document.getElementById("filter-error");
const pickButton = document.getElementById("pick-point");
const limitedNote = document.getElementById("map-limited");
const filterPanel = document.getElementById("filters");
const onPhone = window.matchMedia("(max-width: 899px)");

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
// A layer switched on in the legend loads its features for the current view (JSON per bbox).
async function toggleLayer(layer) {
  if (!layer.shown) return;
  signals.begin();
  try {
    await loadSecondary(layer);
  } finally {
    signals.end();
  }
}

const legend = createLegend(map, labels.legend);
const layers = sources.map((source) => {
  const sourceLabels = { ...labels, ...(source.labels || {}) };
  const popup = popupBuilder(source);
  const context = { labels: sourceLabels, detailHref: detailHref(source), source, routeUrl: config.routeUrl };
  return new SourceLayer(map, source, {
    labels: sourceLabels,
    query: () => filterQuery(form, source.parameters),
    popup: (properties, position) => popup(properties, { ...context, position }),
    placeholder: (properties, failed) => placeholderPopup(properties, context, failed),
    legend,
    onToggle: toggleLayer,
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
  onSuggestion: searchFor,
  elements: {
    list: document.getElementById("employer-list"),
    empty: document.getElementById("list-empty"),
    count: countBox,
    pagination: document.getElementById("pagination"),
    heading: document.getElementById("list-heading"),
    suggestion: document.getElementById("search-suggestion"),
  },
});

const searchStatus = element("p", "hint search-area-status");
searchStatus.id = "search-area-status";
searchStatus.setAttribute("role", "status");
searchStatus.hidden = true;
countBox.after(searchStatus);
const searchArea = createSearchArea(map, { labels, language: config.language, status: searchStatus });
drawOutline(map, config.outlineUrl);
// The view the page opened with, from the address or this tab's last visit, is kept; a later
// search fits its circle into the map.
let keepOpeningView = false;
// While the page's filter is invalid (an error the server found in the link), nothing is loaded:
// no data are shown as if they were filtered. The next change of the filter loads again.
let invalid = false;

// --- messages ----------------------------------------------------------------------------------
// A filter error shows twice: in the box above the map (with the field's name) and next to the
// field itself, which is marked aria-invalid and described by the message.
function fieldControls(name) {
  return [...form.elements].filter((control) => control.name === name);
}

function fieldName(name) {
  const [control] = fieldControls(name);
  if (!control) return name === "bbox" || name === "zoom" ? labels.mapView : name;
  const group = control.closest("fieldset");
  const label = control.labels && control.labels[0];
  const text = control.type === "checkbox" || control.type === "radio" || !label
    ? group && group.querySelector("legend")
    : label;
  return text ? text.textContent.trim() : name;
}

function clearFieldErrors() {
  for (const note of form.querySelectorAll(".field-error[data-parameter]")) note.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    if (control.dataset.describedBy !== undefined) {
      if (control.dataset.describedBy) control.setAttribute("aria-describedby", control.dataset.describedBy);
      else control.removeAttribute("aria-describedby");
      delete control.dataset.describedBy;
    }
  }
}

function markField(name, message) {
  const found = fieldControls(name);
  if (!found.length) return;
  const note = element("p", "field-error", message);
  note.id = `f-error-${name}`;
  note.dataset.parameter = name;
  const [first] = found;
  if (first.type === "checkbox" || first.type === "radio") (first.closest("fieldset") || first.parentElement).append(note);
  else first.after(note);
  for (const control of found) {
    control.dataset.describedBy = control.getAttribute("aria-describedby") || "";
    control.setAttribute("aria-describedby", `${control.dataset.describedBy} ${note.id}`.trim());
    control.setAttribute("aria-invalid", "true");
  }
}

function showError(body) {
  clearFieldErrors();
  if (body && body.parameter) {
    errorBox.textContent = `${labels.checkInput} (${fieldName(body.parameter)}): ${body.message}`;
    markField(body.parameter, body.message);
    searchArea.clear();
    limitedNote.hidden = true;
  } else {
    errorBox.textContent = labels.loadError;
  }
  errorBox.hidden = false;
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = "";
  clearFieldErrors();
}

// --- loading -----------------------------------------------------------------------------------
let moving;
// A further source that fails to load is emptied but does not hide the employers or their message.
async function loadSecondary(layer) {
  try {
    await layer.load();
  } catch (error) {
    layer.clear();
    console.warn(`atlas.js: source "${layer.key}" could not be loaded`, error);
  }
}

async function loadAll() {
  const [data] = await Promise.all([primaryLayer.load(), ...otherLayers.map(loadSecondary)]);
  return data;
}

async function loadMap() {
  let data = await loadAll();
  if (!data) return; // a newer load has started; its answer sets the numbers
  // A new place or radius: draw it and fit the map to the circle, then load that view (the
  // move's own reload is not needed).
  if (searchArea.show(data.place || null, { fit: !keepOpeningView })) {
    clearTimeout(moving);
    keepViewInUrl(map);
    data = await loadAll();
    if (!data) return;
  }
  keepOpeningView = false;
  const stats = mapStats(data);
  limitedNote.hidden = !stats.limited;
  signals.stats(stats);
}

async function refresh({ list: withList = true } = {}) {
  invalid = false;
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

// "Meinten Sie": the suggestion goes into the text field and is searched.
function searchFor(text) {
  const parameter = parameters.find((item) => item.type === "text");
  const field = parameter ? form.elements.namedItem(parameter.name) : null;
  if (!field) return;
  field.value = text;
  updateFilterBadge();
  refresh();
  // The link goes away with the new results: keep the focus on the field that now holds it.
  if (field.offsetParent !== null) field.focus({ preventScroll: true });
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

// On a phone, "Anzeigen" folds the filter panel and brings the results (count and map) into view.
function showResults() {
  if (!onPhone.matches) return;
  filterPanel.open = false;
  map.invalidateSize();
  countBox.closest("section").scrollIntoView({ block: "start" });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  updateFilterBadge();
  showResults();
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

map.on("moveend", () => {
  clearTimeout(moving);
  if (invalid) return;
  rememberView(map); // at once, so that a link followed right after a move keeps this view
  moving = setTimeout(async () => {
    keepViewInUrl(map); // as the load starts (tests wait for the address, then for the load)
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
// A value the link gave stays in its field, even one the field does not offer.
keepGivenValues(form, parameters, location.search, labels.givenValue);
const serverError = errorBox.hidden ? null : { parameter: errorBox.dataset.parameter, message: errorBox.dataset.message };
if (onPhone.matches && !activeFilterCount(filterParams(), parameters) && !serverError) {
  filterPanel.open = false;
}
keepOpeningView = applyHashView(map);
if (serverError && serverError.parameter) {
  // The server found the link's filter invalid: show where, and load nothing until it changes.
  invalid = true;
  signals.begin();
  showError(serverError);
  list.clear();
  signals.end();
} else {
  // The server rendered the list and count for this URL; the map data come now.
  refresh({ list: false });
}
