// The list under the map and its pagination, rendered from the list endpoint's JSON with
// textContent only. The server renders the first list for the page's URL; this re-renders it
// after a filter change or a page link.
import { asWritten, element, fill, formatCount, formatKm, getJson, link } from "./dom.js";
import { familyBadges, offersElement } from "./popups.js";
import { telHref } from "../contact.js";
import { toggleButton } from "../shortlist/toggle.js";

// options: { listUrl, pageUrl, labels, sizes, language, detailHref(item), query(page) ->
//            URLSearchParams, onSuggestion(text), elements: { list, empty, count, pagination,
//            heading, suggestion } }
// A "did you mean" suggestion (the list's "suggestion", from published names) is shown as
// labels.suggestion with a link in place of "{suggestion}"; choosing it calls onSuggestion.
export function createList({ listUrl, pageUrl, labels, sizes, language, detailHref, query, onSuggestion, elements }) {
  let request = 0;

  function suggestionLink(anchor, text) {
    anchor.addEventListener("click", (event) => {
      if (!onSuggestion) return;
      event.preventDefault();
      onSuggestion(text);
    });
    return anchor;
  }

  function renderSuggestion(text) {
    const box = elements.suggestion;
    if (!box) return;
    box.replaceChildren();
    if (!text) return;
    const params = query(1);
    params.set("q", text);
    params.delete("page");
    const [before, after = ""] = labels.suggestion.split("{suggestion}");
    // The spelling comes from employers' names: German, as written (isolated in Arabic).
    const anchor = asWritten(link(`${pageUrl}?${params}`, text));
    box.append(before, suggestionLink(anchor, text), after);
  }

  // The server rendered the first suggestion: its link searches without reloading the page.
  const rendered = elements.suggestion && elements.suggestion.querySelector("a[data-suggestion]");
  if (rendered) suggestionLink(rendered, rendered.dataset.suggestion);

  function countText(total) {
    return total === 1 ? labels.countOne : fill(labels.count, { n: formatCount(total, language) });
  }

  // "Merken" and, with a phone number, "Anrufen" (as the server renders them).
  function itemActions(item) {
    const row = element("p", "item-actions");
    const keep = toggleButton("employer", item.slug, item.name);
    if (keep) row.append(keep);
    const tel = telHref(item.phone);
    if (tel) {
      const call = link(tel, labels.call, "contact-action contact-call");
      call.setAttribute("aria-label", `${labels.call}: ${item.name}`);
      row.append(call);
    }
    return row.children.length ? row : null;
  }

  function listItem(item) {
    const entry = element("li", "employer-item");
    entry.append(asWritten(link(detailHref(item), item.name, "employer-link")));
    // The town as written (German), isolated from the translated parts that follow.
    const meta = element("span", "employer-meta");
    const place = element("bdi", null, `${item.postal_code} ${item.town}`.trim());
    place.lang = "de";
    meta.append(place);
    const more = [];
    if (item.size_class) more.push(sizes[item.size_class]);
    if (item.distance_km !== null && item.distance_km !== undefined) {
      more.push(fill(labels.distance, { km: formatKm(item.distance_km, language) }));
    }
    if (more.length) meta.append(` · ${more.join(" · ")}`);
    entry.append(meta);
    const offers = offersElement(item, labels, "span", "employer-offers");
    if (offers) entry.append(offers);
    const family = familyBadges(item.family, labels);
    if (family) entry.append(family);
    const actions = itemActions(item);
    if (actions) entry.append(actions);
    return entry;
  }

  function renderPagination(data) {
    const { pagination } = elements;
    pagination.replaceChildren();
    if (data.pages <= 1) return;
    const goTo = (page, text, rel) => {
      const anchor = link(`${pageUrl}?${query(page)}`, text);
      anchor.rel = rel;
      anchor.addEventListener("click", (event) => {
        event.preventDefault();
        load(page).then(() => elements.heading.scrollIntoView());
      });
      return anchor;
    };
    if (data.page > 1) pagination.append(goTo(data.page - 1, labels.previous, "prev"));
    pagination.append(element("span", null, fill(labels.page, { page: data.page, pages: data.pages })));
    if (data.page < data.pages) pagination.append(goTo(data.page + 1, labels.next, "next"));
  }

  async function load(page = 1) {
    const current = ++request;
    const data = await getJson(`${listUrl}?${query(page)}`);
    if (current !== request) return;
    elements.list.replaceChildren(...data.items.map(listItem));
    elements.empty.hidden = data.total > 0;
    elements.count.textContent = countText(data.total);
    renderSuggestion(data.suggestion);
    renderPagination(data);
  }

  function clear() {
    elements.list.replaceChildren();
    elements.count.textContent = "";
    renderSuggestion(null);
  }

  return { load, clear };
}
