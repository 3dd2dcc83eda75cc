// "Merken" / "Gemerkt": toggle buttons (aria-pressed) that put an employer or an event on this
// device's shortlist, and the header link "Merkliste (n)". The texts come from the page's
// #app-shell[data-config] (labels in the interface language); the entry's name goes into the
// button's accessible name ("Merken: Bäckerei Müller", aria-label, which starts with the text
// on the button).
//
// Buttons the server rendered (class "shortlist-toggle", data-shortlist-type/-slug, hidden until
// this module runs) are enhanced by enhance(); popups and list items make theirs with
// toggleButton(). Every button follows the list when it changes, in any tab.
import { element, fill } from "../atlas/dom.js";
import * as store from "./store.js";

let config;

export function shellConfig() {
  if (config === undefined) {
    const node = document.getElementById("app-shell");
    try {
      config = node ? JSON.parse(node.dataset.config) : null;
    } catch {
      config = null;
    }
  }
  return config;
}

function labels() {
  const shell = shellConfig();
  return shell ? shell.labels : null;
}

function show(button) {
  const pressed = store.has(button.dataset.shortlistType, button.dataset.shortlistSlug);
  button.setAttribute("aria-pressed", String(pressed));
  const text = pressed ? labels().added : labels().add;
  button.querySelector(".shortlist-toggle-text").textContent = text;
  button.setAttribute("aria-label", `${text}: ${button.dataset.shortlistName}`);
}

function toggle(button) {
  const { shortlistType: type, shortlistSlug: slug } = button.dataset;
  const saved = store.has(type, slug) ? store.remove(type, slug) : store.add(type, slug);
  if (!saved) window.alert(labels().storageError);
  show(button);
}

function wire(button) {
  if (button.dataset.enhanced) return button;
  button.dataset.enhanced = "true";
  button.addEventListener("click", (event) => {
    event.preventDefault();
    toggle(button);
  });
  show(button);
  button.hidden = false;
  return button;
}

// A toggle for the entry (null on a page without the shell's labels, e.g. an embedded map).
export function toggleButton(type, slug, name) {
  if (!labels() || !slug) return null;
  const button = element("button", "shortlist-toggle");
  button.type = "button";
  button.dataset.shortlistType = type;
  button.dataset.shortlistSlug = slug;
  button.dataset.shortlistName = name;
  button.append(element("span", "shortlist-toggle-text"));
  return wire(button);
}

export function enhance(root = document) {
  if (!labels()) return;
  for (const button of root.querySelectorAll("button.shortlist-toggle")) wire(button);
}

// The header link: "Merkliste (n)", leading to the list's own address (which also opens offline).
export function showCount() {
  const link = document.getElementById("shortlist-link");
  if (!link || !labels()) return;
  const list = store.entries();
  link.textContent = fill(labels().count, { n: list.length });
  const query = store.toQuery(list);
  link.href = query ? `${link.dataset.page}?${query}` : link.dataset.page;
}

store.onChange(() => {
  for (const button of document.querySelectorAll("button.shortlist-toggle[data-enhanced]")) show(button);
  showCount();
});
