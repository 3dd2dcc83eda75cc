// The progress page of an import the worker runs (employers or a map layer). While the import
// is queued, the page is asked for again in the background every few seconds; it is loaded
// anew only once it no longer says "queued" (then it shows the result or why the import
// failed). Nothing reloads meanwhile, so a screen reader is not sent back to the top every few
// seconds: the status region (role="status") says what happens. Without JavaScript, its
// "Jetzt neu laden" link stays.
const region = document.querySelector("[data-import-state='queued'][data-poll-url]");

/** Milliseconds between two looks; the longest wait after failed looks; when to stop (the
 * server takes an import queued for half an hour as lost and lets it be asked for again). */
const INTERVAL = 3000;
const MAX_INTERVAL = 30000;
const GIVE_UP_AFTER = 30 * 60 * 1000;

/** Whether the page at `url` still shows a queued import. Throws when it cannot tell (no
 * connection, a server error): then it is asked again later. */
async function stillQueued(url) {
  const response = await fetch(url, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "text/html" },
  });
  if (response.status >= 500) {
    throw new Error(`progress page answered ${response.status}`);
  }
  if (!response.ok || response.redirected) {
    return false; // e.g. signed out meanwhile: the page itself says so
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  return page.querySelector("[data-import-state='queued']") !== null;
}

function say(text) {
  if (text) {
    region.replaceChildren(Object.assign(document.createElement("p"), { textContent: text }));
  }
}

if (region) {
  const url = new URL(region.dataset.pollUrl, window.location.href).href;
  const started = Date.now();
  let wait = INTERVAL;

  const look = async () => {
    try {
      if (!(await stillQueued(url))) {
        say(region.dataset.doneMessage);
        window.location.replace(url);
        return;
      }
      wait = INTERVAL;
    } catch {
      wait = Math.min(wait * 2, MAX_INTERVAL);
    }
    if (Date.now() - started > GIVE_UP_AFTER) {
      say(region.dataset.slowMessage);
      return;
    }
    window.setTimeout(look, wait);
  };
  window.setTimeout(look, wait);
}
