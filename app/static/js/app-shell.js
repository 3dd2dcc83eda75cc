// The installable app on every page of the public side: registers the service worker (/sw.js),
// shows "Sie sind offline …" while the page or its data come from the worker's cache or the
// device is offline, and offers a new version with a button instead of swapping it under a
// running page. Also enhances the shortlist's "Merken" buttons and the header's count.
//
// Settings in #app-shell[data-config] (the script tag itself): the worker's URL and the labels.
import { element } from "./atlas/dom.js";
import { enhance, shellConfig, showCount } from "./shortlist/toggle.js";

const config = shellConfig();

// One status line under the header for both notices; created empty first, so that screen
// readers announce the text set into it later.
let bar;
function statusBar() {
  if (!bar) {
    bar = element("div", "app-status");
    bar.id = "app-status";
    bar.setAttribute("role", "status");
    document.querySelector("main").before(bar);
  }
  return bar;
}

let offlineShown = false;
function showOffline() {
  if (offlineShown) return;
  offlineShown = true;
  const notice = element("p", "app-notice app-offline", null);
  notice.id = "offline-notice";
  statusBar().append(notice);
  // A moment later, so that the status region announces it.
  setTimeout(() => {
    notice.textContent = config.labels.offline;
  }, 50);
}

function hideOffline() {
  const notice = document.getElementById("offline-notice");
  if (notice) notice.remove();
  offlineShown = false;
}

let updateRequested = false;
function offerUpdate(worker) {
  if (document.getElementById("update-notice")) return;
  const button = element("button", "app-update", config.labels.update);
  button.type = "button";
  button.id = "update-notice";
  button.addEventListener("click", () => {
    updateRequested = true;
    button.disabled = true;
    worker.postMessage({ type: "skip-waiting" });
  });
  statusBar().append(button);
}

// Whether the worker answered this page's navigation from its cache (asked once, on load).
function askWhetherFromCache(controller) {
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => {
    if (event.data && event.data.fromCache) showOffline();
  };
  controller.postMessage({ type: "status" }, [channel.port2]);
}

async function register() {
  const container = navigator.serviceWorker;
  container.addEventListener("message", (event) => {
    if (event.data && event.data.type === "from-cache") showOffline();
  });
  container.startMessages();
  container.addEventListener("controllerchange", () => {
    // Only the version the user asked for reloads the page; the first worker taking control
    // of a page just opened changes nothing on it.
    if (updateRequested) window.location.reload();
  });
  if (container.controller) askWhetherFromCache(container.controller);
  const registration = await container.register(config.worker, { scope: "/", updateViaCache: "none" });
  const watch = (worker) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && container.controller) offerUpdate(worker);
    });
  };
  if (registration.waiting && container.controller) offerUpdate(registration.waiting);
  if (registration.installing) watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
}

// The worker switched off (SERVICE_WORKER=false): remove one installed earlier, and its caches.
async function unregister() {
  for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
  for (const name of await caches.keys()) if (name.startsWith("kmu-atlas-")) await caches.delete(name);
}

if (config) {
  enhance();
  showCount();
  if (!navigator.onLine) showOffline();
  window.addEventListener("offline", showOffline);
  window.addEventListener("online", hideOffline);
  if ("serviceWorker" in navigator && config.worker) {
    register().catch((error) => console.warn("app-shell.js: the service worker was not registered", error));
  } else if ("serviceWorker" in navigator) {
    unregister().catch((error) => console.warn("app-shell.js: the service worker was not removed", error));
  }
}
