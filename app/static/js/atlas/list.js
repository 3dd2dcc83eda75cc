// The list under the map and its pagination, rendered from the list endpoint's JSON with
// textContent only. The server renders the first list for the page's URL; this re-renders it
// after a filter change or a page link.
import { element, fill, formatKm, getJson, link } from "./dom.js";
import { familyBadges, offerTexts } from "./popups.js";

// options: { listUrl, pageUrl, labels, sizes, language, detailHref(item), query(page) ->
//            URLSearchParams, elements: { list, empty, count, pagination, heading } }
export function createList({ listUrl, pageUrl, labels, sizes, language, detailHref, query, elements }) {
  let request = 0;

  function countText(total) {
    return total === 1 ? labels.countOne : fill(labels.count, { n: total });
  }

  function listItem(item) {
    const entry = element("li", "employer-item");
    entry.append(link(detailHref(item), item.name, "employer-link"));
    const meta = [`${item.postal_code} ${item.town}`.trim()];
    if (item.size_class) meta.push(sizes[item.size_class]);
    if (item.distance_km !== null && item.distance_km !== undefined) {
      meta.push(fill(labels.distance, { km: formatKm(item.distance_km, language) }));
    }
    entry.append(element("span", "employer-meta", meta.join(" · ")));
    const offers = offerTexts(item, labels);
    if (offers.length) entry.append(element("span", "employer-offers", offers.join(" · ")));
    const family = familyBadges(item.family, labels);
    if (family) entry.append(family);
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
    renderPagination(data);
  }

  function clear() {
    elements.list.replaceChildren();
    elements.count.textContent = "";
  }

  return { load, clear };
}
