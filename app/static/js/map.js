// Employer markers on the start page. The map itself comes from folium; the data come as
// GeoJSON from our API. Every text from the data is set with textContent, never as HTML.

const root = document.getElementById("atlas");
const config = JSON.parse(root.dataset.config);
const map = window[config.mapName];
const count = document.getElementById("employer-count");

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function link(href, text) {
  const anchor = element("a", null, text);
  anchor.href = href;
  return anchor;
}

function safeWebsite(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
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
    const item = element("li", null, `${config.labels.phone}: `);
    item.append(link(`tel:${properties.phone.replace(/[^+\d]/g, "")}`, properties.phone));
    contact.append(item);
  }
  if (properties.email) {
    const item = element("li", null, `${config.labels.email}: `);
    item.append(link(`mailto:${encodeURIComponent(properties.email).replace("%40", "@")}`, properties.email));
    contact.append(item);
  }
  const website = properties.website && safeWebsite(properties.website);
  if (website) {
    const item = element("li", null, `${config.labels.website}: `);
    item.append(link(website, properties.website));
    contact.append(item);
  }
  if (contact.children.length) box.append(contact);
  return box;
}

function countText(total) {
  return total === 1 ? config.labels.countOne : config.labels.count.replace("{n}", total);
}

async function loadEmployers() {
  try {
    const response = await fetch(config.employersUrl, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, { radius: 7, color: "#0b3d6b", weight: 2, fillColor: "#f0a500", fillOpacity: 0.9 }),
      onEachFeature: (feature, marker) => marker.bindPopup(() => popupContent(feature.properties)),
    }).addTo(map);
    count.textContent = countText(data.total);
    root.dataset.markers = String(layer.getLayers().length);
  } catch (error) {
    count.textContent = config.labels.loadError;
    count.classList.add("error");
    console.error(error);
  } finally {
    root.dataset.loaded = "true";
  }
}

loadEmployers();
