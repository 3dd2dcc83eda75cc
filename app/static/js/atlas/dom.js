// Small DOM and text helpers. Text from the data is only ever set with textContent.

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null && text !== "") node.textContent = text;
  return node;
}

// Marks a node holding an employer's or organiser's own text (name, description, place):
// shown as written, in German (the data have no language of their own), isolated with its
// direction found from the text, so that it reads right inside an Arabic (right-to-left)
// page. A link or span gets lang and dir itself; a block (heading, paragraph) keeps the
// page's alignment and holds the text in a <bdi lang="de">.
export function asWritten(node, lang = "de") {
  if (["A", "SPAN", "BDI"].includes(node.tagName)) {
    node.lang = lang;
    node.dir = "auto";
    return node;
  }
  const inner = element("bdi", null, node.textContent);
  inner.lang = lang;
  node.replaceChildren(inner);
  return node;
}

export function link(href, text, className) {
  const anchor = element("a", className, text);
  anchor.href = href;
  return anchor;
}

// Fills "{n} found" style labels: fill(labels.count, { n: 3 }).
export function fill(template, values) {
  return Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, value), template);
}

// A distance in the page's language, with Latin digits in every language (as the server's
// Babel formats them, also in Arabic).
export function formatKm(km, language) {
  return new Intl.NumberFormat(language, { numberingSystem: "latn", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(km);
}

// A count in the page's language ("92.029" in German), Latin digits in every language.
export function formatCount(count, language) {
  return new Intl.NumberFormat(language, { numberingSystem: "latn", maximumFractionDigits: 0 }).format(count);
}

// Only http(s) addresses become links; "javascript:" and the like stay plain text.
export function safeWebsite(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// GET a JSON body; a non-2xx answer rejects with the server's error body (e.g. {parameter, message}).
export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw body || new Error(`HTTP ${response.status}`);
  return body;
}
