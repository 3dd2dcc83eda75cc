// Contact in one tap: "Anrufen", "E-Mail schreiben", "Website" and "Route" as links that look
// like buttons (44 px), built with textContent only. telHref is the twin of app/contact.py's
// tel_href (the same examples are tested for both): the number is shown as written, the link
// dials it in the international form.
import { element, link, safeWebsite } from "./atlas/dom.js";

export const COUNTRY_CODE = "49";

export function telHref(phone) {
  if (!phone) return null;
  const text = String(phone).trim().replace(/\(\s*0\s*\)/g, "");
  const plus = text.startsWith("+");
  const digits = text.replace(/\D/g, "");
  if (!digits) return null;
  if (plus) return `tel:+${digits}`;
  if (digits.startsWith("00")) return `tel:+${digits.slice(2)}`;
  if (digits.startsWith("0")) return `tel:+${COUNTRY_CODE}${digits.slice(1)}`;
  return `tel:${digits}`;
}

export function mailtoHref(email) {
  if (!email) return null;
  return `mailto:${encodeURIComponent(String(email).trim()).replace("%40", "@")}`;
}

// The routing page of ROUTE_URL with the destination filled in (6 decimals, as on the server).
export function routeHref(template, lat, lon) {
  if (!template || typeof lat !== "number" || typeof lon !== "number") return null;
  return template.replace("{lat}", lat.toFixed(6)).replace("{lon}", lon.toFixed(6));
}

// A row of contact links for an entry: properties { phone, email, website }, position
// { lat, lon } or null; labels { call, writeEmail, website, route }; routeUrl the template.
// Each link's accessible name adds the entry's name ("Anrufen: Bäckerei Müller").
export function contactLinks(properties, { labels, routeUrl, position, name }) {
  const row = element("p", "contact-actions");
  const add = (href, text, className, extra = {}) => {
    if (!href) return;
    const anchor = link(href, text, `contact-action ${className}`);
    if (name) anchor.setAttribute("aria-label", `${text}: ${name}`);
    Object.assign(anchor, extra);
    row.append(anchor);
  };
  add(telHref(properties.phone), labels.call, "contact-call");
  add(mailtoHref(properties.email), labels.writeEmail, "contact-email");
  add(properties.website && safeWebsite(properties.website), labels.website, "contact-website", { rel: "noopener" });
  if (position) add(routeHref(routeUrl, position.lat, position.lon), labels.route, "contact-route", { rel: "noopener noreferrer" });
  return row.children.length ? row : null;
}
