// The shortlist page (/merkliste). Without entries in its address it opens the address of this
// device's list (or says the list is empty). With entries it is either the device's own list
// (every entry is on it: "Entfernen" buttons) or a list someone shared ("In meine Merkliste
// übernehmen" adds its entries to this device's list). It draws the entries as numbered markers
// on the small map (the numbers of the list), prints, and shares the page's link (the Web Share
// API where there is one, else the clipboard, else the visible link field).
//
// Settings in #shortlist[data-config]: entries [{number, type, slug, name, url, lat, lon}],
// mapName, pageUrl, requested, labels. Text from the data is set with textContent only.
import { element, link } from "./atlas/dom.js";
import * as store from "./shortlist/store.js";

const root = document.getElementById("shortlist");
const config = JSON.parse(root.dataset.config);
const labels = config.labels;
const status = document.getElementById("shortlist-status");

// The page's address for these entries, keeping a chosen language.
function pageAddress(list) {
  const language = new URLSearchParams(window.location.search).get("lang");
  const query = [store.toQuery(list), language ? `lang=${encodeURIComponent(language)}` : ""].filter(Boolean).join("&");
  return query ? `${config.pageUrl}?${query}` : config.pageUrl;
}

function say(text) {
  if (status) status.textContent = text;
}

// --- the small map -----------------------------------------------------------------------------
const map = config.mapName ? window[config.mapName] : null;
const markers = new Map();

function fitMap() {
  if (!map || !markers.size) return;
  map.invalidateSize();
  const bounds = L.latLngBounds([...markers.values()].map((marker) => marker.getLatLng()));
  map.fitBounds(bounds, { padding: [36, 36], maxZoom: 15, animate: false });
}

function drawMarkers() {
  if (!map) return;
  for (const entry of config.entries) {
    if (typeof entry.lat !== "number" || typeof entry.lon !== "number") continue;
    const number = element("span", null, String(entry.number));
    const icon = L.divIcon({ className: "shortlist-marker", html: number, iconSize: [44, 44], iconAnchor: [22, 22] });
    const title = `${entry.number}. ${entry.name}`;
    const marker = L.marker([entry.lat, entry.lon], { icon, title, alt: title, keyboard: true });
    marker.bindPopup(() => {
      const box = element("div", "shortlist-popup");
      box.append(link(entry.url, title, "details-link"));
      return box;
    });
    marker.addTo(map);
    markers.set(`${entry.type}:${entry.slug}`, marker);
  }
  fitMap();
  // Printing changes the map's size: fit the entries into the printed map.
  window.addEventListener("beforeprint", fitMap);
  window.addEventListener("afterprint", fitMap);
  window.matchMedia("print").addEventListener("change", fitMap);
}

// --- the device's own list, or a shared one --------------------------------------------------
// The entries shown: those of the address the server found (unknown ones are left out).
let shown = config.entries.map((entry) => ({ type: entry.type, slug: entry.slug }));

function removeEntry(button) {
  const { shortlistType: type, shortlistSlug: slug } = button.dataset;
  store.remove(type, slug);
  shown = shown.filter((entry) => !(entry.type === type && entry.slug === slug));
  const item = button.closest(".shortlist-entry");
  const section = item.closest("section");
  item.remove();
  if (section && !section.querySelector(".shortlist-entry")) section.remove();
  const marker = markers.get(`${type}:${slug}`);
  if (marker) {
    marker.remove();
    markers.delete(`${type}:${slug}`);
  }
  window.history.replaceState(null, "", pageAddress(shown));
  document.getElementById("share-url").value = new URL(pageAddress(shown), window.location.origin).href;
  say(labels.removed.replace("{name}", button.dataset.name));
  if (!root.querySelector(".shortlist-entry")) {
    for (const node of root.querySelectorAll(".shortlist-tools, .share-box, .shortlist-columns")) node.hidden = true;
    say(labels.nowEmpty);
  }
}

function ownList() {
  document.getElementById("shortlist-shared").hidden = true;
  for (const button of root.querySelectorAll("button.shortlist-remove")) {
    button.hidden = false;
    button.addEventListener("click", () => removeEntry(button));
  }
}

function sharedList() {
  const box = document.getElementById("shortlist-shared");
  box.hidden = false;
  document.getElementById("shortlist-import").addEventListener("click", () => {
    if (!store.merge(shown)) return;
    ownList();
    say(labels.imported);
  });
}

// --- print and share -----------------------------------------------------------------------------
function setUpTools() {
  const printButton = document.getElementById("shortlist-print");
  const shareButton = document.getElementById("shortlist-share");
  const shareBox = document.getElementById("share-box");
  const field = document.getElementById("share-url");
  if (!printButton) return;
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
  shareButton.hidden = false;
  shareBox.hidden = true;
  shareButton.addEventListener("click", async () => {
    const url = field.value;
    if (navigator.share) {
      try {
        await navigator.share({ title: labels.shareTitle, url });
        return;
      } catch (error) {
        if (error && error.name === "AbortError") return; // the user closed the share sheet
      }
    }
    shareBox.hidden = false;
    try {
      await navigator.clipboard.writeText(url);
      say(labels.copied);
    } catch {
      say(labels.copyByHand);
    }
    field.focus();
    field.select();
  });
}

if (!config.requested) {
  const list = store.entries();
  if (list.length) window.location.replace(pageAddress(list));
  else document.getElementById("shortlist-empty").hidden = false;
} else if (shown.length) {
  drawMarkers();
  setUpTools();
  const mine = shown.every((entry) => store.has(entry.type, entry.slug));
  if (mine) ownList();
  else sharedList();
}
