// Popup contents built from a feature's JSON properties with textContent only: a name like
// "<img onerror>" or "${...}" stays plain text. One builder per source key; sources without
// their own builder get a plain one (name and, when declared, a details link).
import { contactLinks } from "../contact.js";
import { toggleButton } from "../shortlist/toggle.js";
import { asWritten, element, fill, link } from "./dom.js";

// The offers of an employer as short texts ("Ausbildung: Bäcker/in (2 Plätze)",
// "3 offene Stellen"); the apprenticeship occupations come named by the server.
export function offerTexts(properties, labels) {
  const offers = [];
  const trained = (properties.apprenticeships || []).map((occupation) => occupation.label);
  if (trained.length) offers.push(`${labels.apprenticeship}: ${trained.join(", ")}`);
  else if (properties.offers_apprenticeships) offers.push(labels.apprenticeship);
  if (properties.offers_internships) offers.push(labels.internship);
  if (properties.open_positions === 1) offers.push(labels.jobsOne);
  else if (properties.open_positions > 1) offers.push(fill(labels.jobs, { n: properties.open_positions }));
  return offers;
}

// The offers as one element (tag "p" or "span"): like offerTexts, with each apprenticeship
// occupation in its own <bdi> carrying the language of its name (German names stay German in
// Turkish, Arabic and Ukrainian); null when the employer offers nothing.
export function offersElement(properties, labels, tag, className) {
  const trained = properties.apprenticeships || [];
  const others = offerTexts({ ...properties, apprenticeships: [], offers_apprenticeships: properties.offers_apprenticeships && !trained.length }, labels);
  if (!trained.length && !others.length) return null;
  const node = element(tag, className);
  if (trained.length) {
    node.append(`${labels.apprenticeship}: `);
    trained.forEach((occupation, position) => {
      if (position) node.append(", ");
      // The name in its own language, the places ("(2 Plätze)") in the page's.
      const name = element("bdi", null, occupation.name || occupation.label);
      name.lang = occupation.lang || "de";
      const at = occupation.name ? occupation.label.indexOf(occupation.name) : -1;
      if (at < 0) name.textContent = occupation.label;
      node.append(at > 0 ? occupation.label.slice(0, at) : "", name, at >= 0 ? occupation.label.slice(at + occupation.name.length) : "");
    });
    if (others.length) node.append(" · ");
  }
  if (others.length) node.append(others.join(" · "));
  return node;
}

// The family-friendliness criteria an employer offers, as a labelled list of badges (labels in
// the interface language from data-config "family"); null when it offers none.
export function familyBadges(codes, labels) {
  const names = labels.familyNames || {};
  const known = (codes || []).filter((code) => names[code]);
  if (!known.length) return null;
  const list = element("ul", "family-badges");
  list.setAttribute("aria-label", labels.family);
  for (const code of known) {
    const badge = element("li", "family-badge", names[code]);
    badge.dataset.criterion = code;
    list.append(badge);
  }
  return list;
}

// The popup's last row: the details link and, on the atlas's own pages, "Merken".
function footer(href, labels, type, properties, name) {
  const row = element("p", "popup-footer");
  if (href) row.append(link(href, labels.details, "details-link"));
  const keep = toggleButton(type, properties.slug, name);
  if (keep) row.append(keep);
  return row.children.length ? row : null;
}

// context: { labels, detailHref(properties) -> string | null, position { lat, lon } | null,
//            routeUrl (ROUTE_URL, for "Route") }
export function employerPopup(properties, { labels, detailHref, position, routeUrl }) {
  const box = element("div", "employer-popup");
  box.append(asWritten(element("h2", "employer-name", properties.name)));
  if (properties.description) box.append(asWritten(element("p", null, properties.description)));
  const street = [properties.street, properties.house_number].filter(Boolean).join(" ");
  const town = [properties.postal_code, properties.town].filter(Boolean).join(" ");
  box.append(asWritten(element("p", "employer-address", [street, town].filter(Boolean).join(", "))));
  const offers = offersElement(properties, labels, "p", "employer-offers");
  if (offers) box.append(offers);
  const family = familyBadges(properties.family, labels);
  if (family) box.append(family);
  // Contact in one tap (the numbers and addresses as written are on the employer's page).
  const actions = contactLinks(properties, { labels, routeUrl, position, name: properties.name });
  if (actions) box.append(actions);
  const last = footer(detailHref(properties), labels, "employer", properties, properties.name);
  if (last) box.append(last);
  return box;
}

// The title a feature is known by: its name, else its title, else the source's label.
export function featureTitle(properties, source) {
  return properties.name || properties.title || properties.label || source.label;
}

// The feature's title as a heading: the data's own name or title is marked as written.
function titleHeading(properties, source) {
  const heading = element("h2", "feature-name", featureTitle(properties, source));
  return properties.name || properties.title ? asWritten(heading) : heading;
}

export function plainPopup(properties, { labels, detailHref, source }) {
  const box = element("div", "feature-popup");
  box.append(titleHeading(properties, source));
  if (properties.description) box.append(asWritten(element("p", null, properties.description)));
  const href = detailHref(properties);
  if (href) box.append(link(href, labels.details, "details-link"));
  return box;
}

// While a popup's content loads (the map data carry only what the markers need): the name, a
// status line ("loading", or that the details could not be had, e.g. offline) that screen
// readers announce, and the details link, which works without them.
export function placeholderPopup(properties, { labels, detailHref, source }, failed) {
  const box = element("div", "feature-popup popup-pending");
  box.append(titleHeading(properties, source));
  const status = element("p", failed ? "popup-status popup-failed" : "popup-status", failed ? labels.detailsFailed : labels.detailsLoading);
  status.setAttribute("role", "status");
  box.append(status);
  const href = detailHref(properties);
  if (href) box.append(link(href, labels.details, "details-link"));
  return box;
}

// A layer feature (source.layer declares the kind): its name, then the kind's fields in their
// configured order with their labels (lists joined by commas, empty fields left out), and a
// note when the feature is fictional demo data. Text only.
export function layerPopup(properties, { labels, source }) {
  const box = element("div", "feature-popup layer-popup");
  box.append(titleHeading(properties, source));
  box.append(element("p", "layer-popup-kind", source.layer.name));
  const list = element("dl", "layer-fields");
  for (const field of source.layer.fields) {
    let value = properties[field.key];
    if (Array.isArray(value)) value = value.join(", ");
    if (value === null || value === undefined || value === "") continue;
    const row = element("div", "layer-field");
    row.dataset.field = field.key;
    const shown = element("dd", null, String(value));
    // A field whose values are the data's own text says their language (field.lang).
    if (field.lang) asWritten(shown, field.lang);
    row.append(element("dt", null, field.label), shown);
    list.append(row);
  }
  if (list.children.length) box.append(list);
  if (properties.fictional) box.append(element("p", "layer-fictional", labels.fictional));
  return box;
}

// An event (the "Veranstaltungen" layer): its title, kind, next date, place and organiser as a
// layer feature, and a link to its page (a path the server built).
export function eventPopup(properties, context) {
  const box = layerPopup(properties, context);
  const { labels, routeUrl, position } = context;
  const actions = contactLinks({}, { labels, routeUrl, position, name: properties.title });
  if (actions) box.append(actions);
  const href = properties.url && properties.url.startsWith("/") ? properties.url : null;
  const last = footer(href, labels, "event", properties, properties.title);
  if (last) box.append(last);
  return box;
}

const BUILDERS = { employers: employerPopup, events: eventPopup };

export function popupBuilder(source) {
  return BUILDERS[source.key] || (source.layer ? layerPopup : plainPopup);
}
