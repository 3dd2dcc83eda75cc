// "Beruf oder Branche suchen" on the start page: everyday words ("Bäcker", "Pflegedienst")
// suggest sectors, occupations and apprenticeship occupations from GET /api/taxonomies/search;
// choosing one sets the matching select of the filter form. Progressive enhancement: the box
// is hidden without JavaScript, and the selects work on their own. Text is set as textContent.

const KINDS = [
  ["sectors", "f-sector"],
  ["occupations", "f-occupation"],
  ["apprenticeships", "f-apprenticeship"],
];
const PER_KIND = 3;

function setup(box) {
  const input = box.querySelector("input");
  const list = box.querySelector("[role=listbox]");
  // The labels come in the page's language (the API knows every interface language).
  const lang = ["de", "en", "tr", "ar", "uk"].includes(document.documentElement.lang) ? document.documentElement.lang : "de";
  let options = [];
  let active = -1;
  let pending = null;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    options = [];
    active = -1;
  };

  const highlight = (index) => {
    active = index;
    options.forEach((option, i) => option.element.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", options[index].element.id);
    else input.removeAttribute("aria-activedescendant");
  };

  const choose = (option) => {
    const select = document.getElementById(option.selectId);
    if (!select || ![...select.options].some((o) => o.value === option.code)) return;
    select.value = option.code;
    select.dispatchEvent(new Event("input", { bubbles: true }));
    select.dispatchEvent(new Event("change", { bubbles: true }));
    input.value = option.label;
    close();
    box.dataset.chosen = `${option.kind}:${option.code}`;
  };

  const render = (found) => {
    list.replaceChildren();
    options = [];
    for (const [kind, selectId] of KINDS) {
      const select = document.getElementById(selectId);
      if (!select) continue;
      const values = new Set([...select.options].map((o) => o.value));
      const seen = new Set();
      for (const hit of found[kind] || []) {
        if (!values.has(hit.filter_code) || seen.has(hit.filter_code)) continue;
        if (seen.size >= PER_KIND) break;
        seen.add(hit.filter_code);
        const element = document.createElement("li");
        element.id = `vocabulary-option-${options.length}`;
        element.setAttribute("role", "option");
        element.dataset.kind = kind;
        element.dataset.code = hit.filter_code;
        const tag = document.createElement("span");
        tag.className = "vocabulary-kind";
        tag.textContent = box.dataset[`label${kind[0].toUpperCase()}${kind.slice(1)}`] || kind;
        const label = document.createElement("span");
        const option = select.querySelector(`option[value="${CSS.escape(hit.filter_code)}"]`);
        const text = option ? option.textContent.trim() : hit.label;
        label.textContent = hit.term && hit.term !== text ? `${text} (${hit.term})` : text;
        // The option's language (German apprenticeship names in a Turkish page, say).
        const named = option && option.closest("[lang]");
        if (named && named.lang !== document.documentElement.lang) label.lang = named.lang;
        element.append(tag, " ", label);
        const entry = { kind, code: hit.filter_code, selectId, label: text, element };
        element.addEventListener("mousedown", (event) => event.preventDefault());
        element.addEventListener("click", () => choose(entry));
        options.push(entry);
        list.append(element);
      }
    }
    if (!options.length) {
      const empty = document.createElement("li");
      empty.className = "vocabulary-empty";
      empty.textContent = box.dataset.labelNone || "";
      list.append(empty);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
    box.dataset.results = String(options.length);
  };

  input.addEventListener("input", () => {
    pending?.abort();
    const query = input.value.trim();
    delete box.dataset.results;
    if (query.length < 2) { close(); return; }
    pending = new AbortController();
    const { signal } = pending;
    setTimeout(async () => {
      if (signal.aborted) return;
      try {
        const params = new URLSearchParams({ q: query.slice(0, 100), lang });
        const response = await fetch(`${box.dataset.searchUrl}?${params}`, { signal });
        if (!response.ok || signal.aborted) return;
        render(await response.json());
      } catch {
        // Aborted by newer typing, or offline: the selects still work.
      }
    }, 150);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter" && !list.hidden) {
      // Enter chooses a suggestion, never submits the filter form from this box.
      event.preventDefault();
      if (options.length) choose(options[Math.max(active, 0)]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  box.hidden = false;
  box.dataset.ready = "true";
}

const box = document.getElementById("vocabulary-search");
if (box) setup(box);
