// The shortlist (Merkliste) on this device: a list of { type: "employer" | "event", slug } in
// localStorage, no account and nothing on the server. Its address form is
// /merkliste?arbeitgeber=slug1,slug2&veranstaltungen=slug3 (the page the server renders).
// Every change is announced to this tab ("kmu-atlas:merkliste" on window) and reaches other
// tabs through the "storage" event.

export const STORAGE_KEY = "kmu-atlas-merkliste";
export const CHANGED = "kmu-atlas:merkliste";
// The address parameter of each type, in the page's order.
export const PARAMETERS = { employer: "arbeitgeber", event: "veranstaltungen" };
const SLUG = /^[a-z0-9][a-z0-9-]{0,199}$/;
const LIMIT = 200;

function valid(entry) {
  return Boolean(entry) && Object.hasOwn(PARAMETERS, entry.type) && typeof entry.slug === "string" && SLUG.test(entry.slug);
}

function same(a, b) {
  return a.type === b.type && a.slug === b.slug;
}

// The entries in the order they were added, without duplicates or anything malformed.
function clean(list) {
  const kept = [];
  for (const entry of Array.isArray(list) ? list : []) {
    if (valid(entry) && !kept.some((other) => same(other, entry))) kept.push({ type: entry.type, slug: entry.slug });
  }
  return kept.slice(0, LIMIT);
}

export function entries() {
  try {
    return clean(JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "[]"));
  } catch {
    return []; // storage switched off or a damaged value: an empty list
  }
}

// Stores the list; false when the browser refuses (storage full or switched off).
function save(list) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(clean(list)));
  } catch {
    return false;
  }
  window.dispatchEvent(new CustomEvent(CHANGED));
  return true;
}

export function has(type, slug) {
  return entries().some((entry) => same(entry, { type, slug }));
}

export function add(type, slug) {
  return has(type, slug) || save([...entries(), { type, slug }]);
}

export function remove(type, slug) {
  return save(entries().filter((entry) => !same(entry, { type, slug })));
}

// Adds the entries of a shared list that this device does not have yet (its order kept).
export function merge(list) {
  return save([...entries(), ...clean(list)]);
}

// The list as the shortlist page's query string, "" for an empty list. Slugs are letters,
// digits and hyphens, so the commas between them stay readable (not %2C) in a shared link.
export function toQuery(list) {
  const parts = [];
  for (const [type, name] of Object.entries(PARAMETERS)) {
    const slugs = clean(list).filter((entry) => entry.type === type).map((entry) => entry.slug);
    if (slugs.length) parts.push(`${name}=${slugs.join(",")}`);
  }
  return parts.join("&");
}

// The entries a shortlist address names (what the server shows for it).
export function fromQuery(search) {
  const params = new URLSearchParams(search);
  const list = [];
  for (const [type, name] of Object.entries(PARAMETERS)) {
    for (const slug of (params.get(name) || "").split(",")) list.push({ type, slug: slug.trim() });
  }
  return clean(list);
}

export function onChange(callback) {
  window.addEventListener(CHANGED, callback);
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY || event.key === null) callback();
  });
}
