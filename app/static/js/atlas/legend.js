// The map legend: a small Leaflet control with a list of the sources on the map, each with its
// marker symbol and label. The list is named by the visible title (aria-labelledby), so screen
// readers announce "Legende, list, 1 item"; the symbols are decorative (aria-hidden). The
// title is a button (aria-expanded) that folds the list; on a phone it starts folded.
import { element } from "./dom.js";

let legends = 0;

export function createLegend(map, title, position = "bottomleft") {
  const id = `atlas-legend-${++legends}`;
  const box = element("div", "atlas-legend leaflet-control");
  // The title is a button that folds the list: folded at first on a phone, where the open
  // legend would cover much of the map; open on larger screens.
  const heading = element("button", "atlas-legend-title");
  heading.type = "button";
  const mark = element("span", "atlas-legend-fold");
  mark.setAttribute("aria-hidden", "true");
  const name = element("span", null, title);
  name.id = id;
  heading.append(mark, name);
  const list = element("ul", "atlas-legend-list");
  list.id = `${id}-list`;
  list.setAttribute("aria-labelledby", id);
  heading.setAttribute("aria-controls", list.id);
  const fold = (folded) => {
    list.hidden = folded;
    heading.setAttribute("aria-expanded", String(!folded));
  };
  fold(window.matchMedia("(max-width: 899px)").matches);
  heading.addEventListener("click", () => fold(!list.hidden));
  box.append(heading, list);
  const Control = L.Control.extend({
    onAdd() {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  new Control({ position }).addTo(map);
  return {
    element: box,
    // One entry per source: its point and cluster symbols, then its label. A symbol takes the
    // class "<marker class>-symbol" (e.g. "atlas-marker-symbol"), styled like the marker in
    // app.css, so the legend never counts as a marker itself.
    // A layer kind (source.layer: colour and symbol) that can be switched (onToggle) gets a
    // labelled checkbox instead of a plain label; its symbol takes the kind's colour through a
    // CSS custom property set on the style property.
    add(source, shown = true, onToggle = null) {
      const item = element("li", "atlas-legend-entry");
      item.dataset.source = source.key;
      const kind = source.layer || null;
      const symbols = [];
      for (const className of kind ? [source.marker.className] : [source.marker.className, source.marker.clusterClassName]) {
        if (!className) continue;
        const symbol = element("span", `atlas-legend-symbol ${className}-symbol`);
        symbol.setAttribute("aria-hidden", "true");
        const inner = element("span", null, kind ? kind.symbol : "");
        if (kind) inner.style.setProperty("--layer-colour", kind.colour);
        symbol.append(inner);
        symbols.push(symbol);
      }
      if (onToggle && kind) {
        const label = element("label", "atlas-legend-toggle");
        const box = element("input");
        box.type = "checkbox";
        box.checked = shown;
        box.dataset.layer = source.key;
        box.addEventListener("change", () => onToggle(box.checked));
        label.append(box, ...symbols, element("span", "atlas-legend-label", source.label));
        item.append(label);
      } else {
        item.append(...symbols, element("span", "atlas-legend-label", source.label));
      }
      list.append(item);
      return item;
    },
  };
}
