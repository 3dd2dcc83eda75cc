// Popup contents built from a feature's JSON properties with textContent only: a name like
// "<img onerror>" or "${...}" stays plain text. One builder per source key; sources without
// their own builder get a plain one (name and, when declared, a details link).
import { element, fill, link, safeWebsite } from "./dom.js";

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

function contactItem(label, href, text) {
  const item = element("li", null, `${label}: `);
  item.append(link(href, text));
  return item;
}

// context: { labels, detailHref(properties) -> string | null }
export function employerPopup(properties, { labels, detailHref }) {
  const box = element("div", "employer-popup");
  box.append(element("h2", "employer-name", properties.name));
  if (properties.description) box.append(element("p", null, properties.description));
  const street = [properties.street, properties.house_number].filter(Boolean).join(" ");
  const town = [properties.postal_code, properties.town].filter(Boolean).join(" ");
  box.append(element("p", "employer-address", [street, town].filter(Boolean).join(", ")));
  const offers = offerTexts(properties, labels);
  if (offers.length) box.append(element("p", "employer-offers", offers.join(" · ")));
  const family = familyBadges(properties.family, labels);
  if (family) box.append(family);
  const contact = element("ul", "employer-contact");
  if (properties.phone) {
    contact.append(contactItem(labels.phone, `tel:${properties.phone.replace(/[^+\d]/g, "")}`, properties.phone));
  }
  if (properties.email) {
    const mailto = `mailto:${encodeURIComponent(properties.email).replace("%40", "@")}`;
    contact.append(contactItem(labels.email, mailto, properties.email));
  }
  const website = properties.website && safeWebsite(properties.website);
  if (website) contact.append(contactItem(labels.website, website, properties.website));
  if (contact.children.length) box.append(contact);
  box.append(link(detailHref(properties), labels.details, "details-link"));
  return box;
}

// The title a feature is known by: its name, else its title, else the source's label.
export function featureTitle(properties, source) {
  return properties.name || properties.title || properties.label || source.label;
}

export function plainPopup(properties, { labels, detailHref, source }) {
  const box = element("div", "feature-popup");
  box.append(element("h2", "feature-name", featureTitle(properties, source)));
  if (properties.description) box.append(element("p", null, properties.description));
  const href = detailHref(properties);
  if (href) box.append(link(href, labels.details, "details-link"));
  return box;
}

// A layer feature (source.layer declares the kind): its name, then the kind's fields in their
// configured order with their labels (lists joined by commas, empty fields left out), and a
// note when the feature is fictional demo data. Text only.
export function layerPopup(properties, { labels, source }) {
  const box = element("div", "feature-popup layer-popup");
  box.append(element("h2", "feature-name", featureTitle(properties, source)));
  box.append(element("p", "layer-popup-kind", source.layer.name));
  const list = element("dl", "layer-fields");
  for (const field of source.layer.fields) {
    let value = properties[field.key];
    if (Array.isArray(value)) value = value.join(", ");
    if (value === null || value === undefined || value === "") continue;
    const row = element("div", "layer-field");
    row.dataset.field = field.key;
    row.append(element("dt", null, field.label), element("dd", null, String(value)));
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
  if (properties.url && properties.url.startsWith("/")) box.append(link(properties.url, context.labels.details, "details-link"));
  return box;
}

const BUILDERS = { employers: employerPopup, events: eventPopup };

export function popupBuilder(source) {
  return BUILDERS[source.key] || (source.layer ? layerPopup : plainPopup);
}
