// The KMU-Atlas service worker, served as /sw.js (scope "/") with the app shell's settings put
// in front of this file as `const SHELL = {...}` (app/pwa/__init__.py):
//   SHELL.version  a hash of the shell's files: every cache name carries it
//   SHELL.assets   static files cached at install (CSS, JS modules, Leaflet, icons, theme)
//   SHELL.pages    pages cached at install when the answer may be kept (start page, shortlist)
//   SHELL.offline  the offline page, cached at install
//
// What it does with a request is decided by ROUTES below, as data: the first rule whose pattern
// matches the path wins; anything else is left to the browser ("pass"). Before the table:
// requests to other origins (map tiles!) and anything but GET always pass, so the worker never
// sees or keeps them. A response is only kept when it may be (see keepable): a successful,
// same-origin, not redirected answer without "Cache-Control: private" or "no-store" (the app
// sends those for the workspace, the questionnaire, personal links, signed-in staff and any
// answer that sets a cookie).
//
// A new version installs beside the running one and waits: the page offers "Neue Version
// verfügbar – neu laden", whose click sends "skip-waiting"; the old version's caches are deleted
// when the new one takes over.

const PREFIX = "kmu-atlas-";
const CACHES = {
  shell: `${PREFIX}shell-${SHELL.version}`,
  static: `${PREFIX}static-${SHELL.version}`,
  pages: `${PREFIX}pages-${SHELL.version}`,
  data: `${PREFIX}data-${SHELL.version}`,
};
// How many pages and data answers are kept (the oldest go first).
const LIMITS = { pages: 40, data: 80 };
// The key under which the last answer for a path is kept besides its own address.
const LAST = "kmu-atlas-last";

// Strategies:
//   pass    the worker stays out of it: nothing is answered from or put into a cache
//   static  cache first (the shell, then files kept on the way), else the network
//   data    the network first, keeping the answer; offline the kept answer for this address,
//           else the last one of the same search in another map view ("the last viewed
//           results"; see lastKey)
//   page    navigations only: the network first, keeping the page; offline the kept page, else
//           the last page of the same path, else the offline page
const ROUTES = [
  // Never kept, whatever their answers say.
  { pattern: /^\/agentur(\/|$)/, strategy: "pass", reason: "the agency's workspace" },
  { pattern: /^\/mitmachen(\/|$)/, strategy: "pass", reason: "the questionnaire and its drafts" },
  { pattern: /^\/suchauftrag(\/|$)/, strategy: "pass", reason: "job alerts and their links" },
  { pattern: /^\/veranstaltungen\/abmelden(\/|$)/, strategy: "pass", reason: "registration links" },
  { pattern: /^\/veranstaltungen\/[^/]+\/(anmelden|angemeldet)$/, strategy: "pass", reason: "registration" },
  { pattern: /^\/(sw\.js|manifest\.webmanifest)$/, strategy: "pass", reason: "the app's own files" },
  { pattern: /^\/einbetten(\/|$)/, strategy: "pass", reason: "pages for other sites" },
  // The app shell and the last viewed results.
  { pattern: /^\/static\//, strategy: "static", reason: "static files" },
  { pattern: /^\/region\/(theme\.css|logo\.svg)$/, strategy: "static", reason: "the region's look" },
  { pattern: /^\/api\/(employers|events)(\/list)?$/, strategy: "data", reason: "map and list data" },
  { pattern: /^\/api\/features\/[a-z0-9_-]+(\/list)?$/, strategy: "data", reason: "map and list data" },
  { pattern: /^\/api\/(employers|features\/[a-z0-9_-]+)\/[0-9]+$/, strategy: "data", reason: "a popup's details" },
  { pattern: /^\/api\/layers\/[a-z0-9_-]+$/, strategy: "data", reason: "map layers" },
  { pattern: /^\/api\/region\/outline$/, strategy: "data", reason: "the region's outline" },
  { pattern: /^\/(merkliste|offline|ueber|leichte-sprache|datenschutz|impressum|barrierefreiheit)?$/, strategy: "page", reason: "public pages" },
  { pattern: /^\/arbeitgeber\/[a-z0-9-]+$/, strategy: "page", reason: "employer pages" },
  { pattern: /^\/veranstaltungen(\/kalender)?$/, strategy: "page", reason: "event list and calendar" },
  { pattern: /^\/veranstaltungen\/[a-z0-9-]+$/, strategy: "page", reason: "event pages" },
];

// What the worker does with a request: "pass", "static", "data" or "page".
function strategyFor(url, method = "GET", mode = "navigate", origin = self.location.origin) {
  const address = new URL(url, origin);
  if (address.origin !== origin || method !== "GET") return "pass";
  const rule = ROUTES.find((route) => route.pattern.test(address.pathname));
  if (!rule) return "pass";
  if (rule.strategy === "page" && mode !== "navigate") return "pass";
  return rule.strategy;
}

// Whether an answer may be kept: see the top of this file.
function keepable(response, { page = false } = {}) {
  if (!response || !response.ok || response.status !== 200 || response.type !== "basic" || response.redirected) return false;
  const cacheControl = (response.headers.get("Cache-Control") || "").toLowerCase();
  if (/(^|[\s,])(no-store|private)([\s,=]|$)/.test(cacheControl)) return false;
  if (page && !(response.headers.get("Content-Type") || "").startsWith("text/html")) return false;
  return true;
}

// The key of the last answer kept for an address: for a page its path (the last employer page
// of a path whatever its way back, the last shortlist, the last search); for data the path and
// the filter without the map view (bbox, zoom), so that the same search opens offline in
// another view, but never shows another search's results.
function lastKey(url, { page }) {
  const address = new URL(url);
  const filter = new URLSearchParams(address.search);
  for (const name of ["bbox", "zoom"]) filter.delete(name);
  filter.sort();
  const kept = page ? "" : filter.toString();
  return `${address.origin}${address.pathname}?${kept ? `${kept}&` : ""}${LAST}`;
}

// --- the worker's events (only inside a service worker; a test page may load this file to
// read ROUTES and call strategyFor and keepable) ------------------------------------------------
const inWorker = typeof ServiceWorkerGlobalScope !== "undefined" && self instanceof ServiceWorkerGlobalScope;
// The clients whose page came from the cache (they ask on load, see app-shell.js).
const servedFromCache = new Set();

// Whether this worker is still the registration's active one: once a newer version takes
// over (before its activation deletes the old caches), it is not. (Browsers without
// ServiceWorkerGlobalScope.serviceWorker rely on the cache check alone.)
function isCurrent() {
  return !self.serviceWorker || self.registration.active === self.serviceWorker;
}

// A cache of this version to write into, or null once a newer version has taken over and
// deleted it: a request still finishing in this (old) worker must not create it again. Every
// cache of a version is created when the version installs; caches.open is called right after
// the last check, with nothing awaited between.
async function writable(cacheName) {
  if (!isCurrent() || !(await caches.has(cacheName)) || !isCurrent()) return null;
  return caches.open(cacheName);
}

async function trim(cacheName, limit) {
  const cache = await writable(cacheName);
  if (!cache) return;
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - limit))) await cache.delete(key);
}

async function keep(cacheName, request, response, { page }) {
  const cache = await writable(cacheName);
  if (!cache) return;
  await Promise.all([cache.put(request, response.clone()), cache.put(lastKey(request.url, { page }), response.clone())]);
  await trim(cacheName, LIMITS[page ? "pages" : "data"]);
}

// The answer kept for ``request`` in the first of the caches ``names`` that has one (reading
// never creates a cache: caches.match with cacheName, unlike caches.open).
async function fromCaches(names, request) {
  for (const name of names) {
    const found = await caches.match(request, { cacheName: name, ignoreVary: true });
    if (found) return found;
  }
  return null;
}

async function cacheFirst(request) {
  const found = await fromCaches([CACHES.shell, CACHES.static], request);
  if (found) return found;
  const response = await fetch(request);
  const cache = keepable(response) ? await writable(CACHES.static) : null;
  if (cache) await cache.put(request, response.clone());
  return response;
}

async function tellClient(clientId) {
  const client = clientId ? await self.clients.get(clientId) : null;
  if (client) client.postMessage({ type: "from-cache" });
}

async function networkFirst(event, cacheName, { page }) {
  const { request } = event;
  try {
    const response = await fetch(request);
    if (keepable(response, { page })) event.waitUntil(keep(cacheName, request, response.clone(), { page }));
    return response;
  } catch (error) {
    let found = (await fromCaches([cacheName], request)) || (await fromCaches([cacheName], lastKey(request.url, { page })));
    if (!found && page) found = await fromCaches([CACHES.shell], SHELL.offline);
    if (!found) throw error;
    if (page) servedFromCache.add(event.resultingClientId);
    else event.waitUntil(tellClient(event.clientId));
    return found;
  }
}

async function install() {
  await Promise.all(Object.values(CACHES).map((name) => caches.open(name)));
  const shell = await caches.open(CACHES.shell);
  const fresh = (url) => new Request(url, { cache: "no-cache" });
  await shell.addAll(SHELL.assets.map(fresh));
  const offline = await fetch(fresh(SHELL.offline));
  if (!keepable(offline, { page: true })) throw new Error(`sw.js: the offline page ${SHELL.offline} cannot be kept`);
  await shell.put(SHELL.offline, offline);
  // The pages: the browser's own copy when it has one (the page just opened), so installing
  // costs the server no second rendering; the network first keeps them fresh later.
  const pages = await caches.open(CACHES.pages);
  await Promise.all(
    SHELL.pages.map(async (url) => {
      try {
        const response = await fetch(new Request(url, { cache: "force-cache" }));
        if (keepable(response, { page: true })) await pages.put(url, response);
      } catch {
        // A page that cannot be fetched now is kept when it is next visited.
      }
    }),
  );
}

async function activate() {
  const current = new Set(Object.values(CACHES));
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && !current.has(name)) await caches.delete(name);
  }
  await self.clients.claim();
}

if (inWorker) {
  self.addEventListener("install", (event) => event.waitUntil(install()));
  self.addEventListener("activate", (event) => event.waitUntil(activate()));
  self.addEventListener("message", (event) => {
    const message = event.data || {};
    if (message.type === "skip-waiting") self.skipWaiting();
    if (message.type === "status" && event.ports[0]) {
      const id = event.source && event.source.id;
      event.ports[0].postMessage({ fromCache: servedFromCache.has(id) });
      servedFromCache.delete(id);
    }
  });
  self.addEventListener("fetch", (event) => {
    const { request } = event;
    const strategy = strategyFor(request.url, request.method, request.mode);
    if (strategy === "static") event.respondWith(cacheFirst(request));
    else if (strategy === "data") event.respondWith(networkFirst(event, CACHES.data, { page: false }));
    else if (strategy === "page") event.respondWith(networkFirst(event, CACHES.pages, { page: true }));
  });
}
