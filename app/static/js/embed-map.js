// The embedded map (/einbetten/karte): the start page's map without its filter panel and list.
// It reads the same #atlas[data-config] as atlas.js and draws one SourceLayer per source from
// the same modules and data URLs; the filter is fixed by the page's address (config "embed":
// the canonical query and the layer to switch on). Every text from the data is set with
// textContent; links in popups open the atlas in a new window.
import { drawOutline } from "./atlas/outline.js";
import { createLegend } from "./atlas/legend.js";
import { placeholderPopup, popupBuilder } from "./atlas/popups.js";
import { createSignals } from "./atlas/signals.js";
import { SourceLayer, mapStats } from "./atlas/source-layer.js";

const root = document.getElementById("atlas");
const config = JSON.parse(root.dataset.config);
const embed = config.embed || { query: {}, layer: "" };
const labels = {
  ...config.labels,
  familyNames: Object.fromEntries((config.family || []).map((criterion) => [criterion.code, criterion.label])),
};
const map = window[config.mapName];
const errorBox = document.getElementById("filter-error");
const limitedNote = document.getElementById("map-limited");
const signals = createSignals(root);

const DEFAULT_MARKER = { className: "atlas-feature", clusterClassName: "atlas-feature-cluster" };
const sources = (config.sources || []).map((source) => ({
  ...source,
  parameters: source.parameters || [],
  marker: { ...DEFAULT_MARKER, ...(source.marker || {}) },
  ...(source.key === embed.layer ? { initiallyShown: true } : {}),
}));

// A source's filter: the embed's parameters that this source declares (as on the start page,
// where the one filter form serves every source).
function queryFor(source) {
  const declared = new Set(source.parameters.map((parameter) => parameter.name));
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(embed.query || {})) {
    if (declared.has(name) && value) params.set(name, value);
  }
  return params;
}

function detailHref(source) {
  const template = source.detailUrl || (source === sources[0] ? config.detailUrl : null);
  return (properties) => {
    if (!template || !properties.slug) return null;
    const params = queryFor(source);
    const query = params.toString() ? `?${params}` : "";
    return `${template.replace("__slug__", encodeURIComponent(properties.slug))}${query}`;
  };
}

// Links in a popup leave the partner's page for the atlas: in a new window.
function inNewWindow(node) {
  for (const anchor of node.querySelectorAll("a[href]")) {
    if (!/^(https?:|\/)/.test(anchor.getAttribute("href"))) continue;
    anchor.target = "_blank";
    anchor.rel = "noopener";
  }
  return node;
}

async function loadLayer(layer) {
  try {
    await layer.load();
  } catch (error) {
    layer.clear();
    console.warn(`embed-map.js: source "${layer.key}" could not be loaded`, error);
  }
}

async function toggleLayer(layer) {
  if (!layer.shown) return;
  signals.begin();
  try {
    await loadLayer(layer);
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
    query: () => queryFor(source),
    popup: (properties, position) => inNewWindow(popup(properties, { ...context, position })),
    placeholder: (properties, failed) => inNewWindow(placeholderPopup(properties, context, failed)),
    legend,
    onToggle: toggleLayer,
  });
});
const [primary, ...others] = layers;
drawOutline(map, config.outlineUrl);

function showError(body) {
  errorBox.textContent = body && body.parameter ? `${labels.checkInput} (${body.parameter}): ${body.message}` : labels.loadError;
  errorBox.hidden = false;
}

async function load() {
  signals.begin();
  try {
    const [data] = await Promise.all([primary.load(), ...others.map(loadLayer)]);
    if (data) {
      const stats = mapStats(data);
      limitedNote.hidden = !stats.limited;
      signals.stats(stats);
    }
    errorBox.hidden = true;
  } catch (error) {
    showError(error);
  } finally {
    signals.end();
  }
}

let moving;
// The server found the address's filter invalid: its message is shown and nothing is loaded.
if (errorBox.hidden) {
  map.on("moveend", () => {
    clearTimeout(moving);
    moving = setTimeout(load, 150);
  });
  load();
} else {
  signals.begin();
  signals.end();
}
