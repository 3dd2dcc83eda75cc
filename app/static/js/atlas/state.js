// The filter: form controls <-> query parameters <-> the page address.
// Every rule here comes from a source's declared parameters (data-config "sources"), never from a
// hand-kept copy of the Python side: which names exist, which may hold several values, which
// need another one ("requires"), which count as an active filter and what "reset" goes back to.

// The form controls that carry one parameter (a select, an input, or a group of checkboxes).
function controls(form, name) {
  return [...form.elements].filter((control) => control.name === name);
}

function byName(parameters) {
  return new Map(parameters.map((parameter) => [parameter.name, parameter]));
}

// The query parameters of the filter form for one source: only the names that source declares,
// several values of a "multiple" parameter joined by commas, empty values left out, and a
// parameter dropped when the parameter it requires is empty (no radius_km without near).
export function filterQuery(form, parameters) {
  const declared = byName(parameters);
  const values = new Map();
  for (const [name, value] of new FormData(form)) {
    if (!declared.has(name) || typeof value !== "string" || !value.trim()) continue;
    values.set(name, [...(values.get(name) || []), value.trim()]);
  }
  let dropped = true;
  while (dropped) {
    dropped = false;
    for (const name of values.keys()) {
      const requires = declared.get(name).requires;
      if (requires && !values.has(requires)) {
        values.delete(name);
        dropped = true;
      }
    }
  }
  const params = new URLSearchParams();
  for (const [name, items] of values) {
    params.set(name, declared.get(name).multiple ? items.join(",") : items[0]);
  }
  return params;
}

// How many declared filters are set, for the badge on the filter panel: a parameter counts
// unless its declaration says countsAsFilter: false (the radius is part of the place).
export function activeFilterCount(params, parameters) {
  const declared = byName(parameters);
  return [...params.keys()].filter((name) => declared.has(name) && declared.get(name).countsAsFilter !== false)
    .length;
}

// Every declared control back to its parameter's default, or empty when it has none.
export function resetForm(form, parameters) {
  for (const parameter of parameters) {
    const fallback = parameter.default === null || parameter.default === undefined ? "" : String(parameter.default);
    const defaults = fallback ? fallback.split(",") : [];
    for (const control of controls(form, parameter.name)) {
      if (control.type === "checkbox" || control.type === "radio") {
        control.checked = defaults.includes(control.value);
      } else if (control.tagName === "SELECT" && control.multiple) {
        for (const option of control.options) option.selected = defaults.includes(option.value);
      } else if (control.tagName === "SELECT") {
        control.value = fallback;
        if (control.selectedIndex < 0) control.selectedIndex = 0;
      } else {
        control.value = fallback;
      }
    }
  }
}

// The declared parameter of type "place" (the centre of a near + radius search), if any.
export function placeParameter(parameters) {
  return parameters.find((parameter) => parameter.type === "place") || null;
}

// The declaration of the parameter a form control belongs to, or null for undeclared controls.
export function parameterOf(parameters, name) {
  return parameters.find((parameter) => parameter.name === name) || null;
}

// Whether a change of this parameter changes the query: not while the parameter it requires
// is empty (changing the radius with no place given loads nothing new).
export function takesEffect(form, parameter) {
  if (!parameter || !parameter.requires) return true;
  return controls(form, parameter.requires).some((control) =>
    control.type === "checkbox" || control.type === "radio" ? control.checked : control.value.trim(),
  );
}

// --- the address bar -----------------------------------------------------------------------
export function viewHash(map) {
  const centre = map.getCenter();
  return `#map=${map.getZoom()}/${centre.lat.toFixed(5)}/${centre.lng.toFixed(5)}`;
}

const VIEW_KEY = "atlas:view";

// The filter part of a query string, comparable however it was written (order, sort, page).
function filterKey(search) {
  const entries = [];
  for (const [name, value] of new URLSearchParams(search)) {
    if (name === "sort" || name === "page" || !value) continue;
    entries.push(`${name}=${value.split(",").sort().join(",")}`);
  }
  return entries.sort().join("&");
}

// The view to open: the address's #map=z/lat/lon, else the view last seen in this tab for the
// same filter (so that "Zurück zur Suche" from an entry's page returns to the same place). Applies
// it and returns true, or returns false when there is none.
export function applyHashView(map) {
  let hash = location.hash;
  if (!hash) {
    try {
      const saved = JSON.parse(sessionStorage.getItem(VIEW_KEY) || "null");
      if (saved && saved.filter === filterKey(location.search)) hash = saved.hash;
    } catch {
      hash = "";
    }
  }
  const match = /^#map=(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(hash || "");
  if (!match) return false;
  map.setView([Number(match[2]), Number(match[3])], Number(match[1]), { animate: false });
  return true;
}

// Keeps this tab's last view for the current filter (read back by applyHashView).
export function rememberView(map) {
  try {
    sessionStorage.setItem(VIEW_KEY, JSON.stringify({ filter: filterKey(location.search), hash: viewHash(map) }));
  } catch {
    // Storage may be switched off; the address still carries the view.
  }
}

// A select keeps a value the page was opened with even when it is not one of its options (an
// outdated or mistyped link, a radius the list does not offer): the value is added as an option
// marked with the label, so it is neither dropped nor silently replaced by the first option.
export function keepGivenValues(form, parameters, search, label) {
  const given = new URLSearchParams(search);
  for (const parameter of parameters) {
    const value = (given.get(parameter.name) || "").trim();
    if (!value) continue;
    if (parameter.type === "within") {
      keepWithin(form, parameter, value, label);
      continue;
    }
    for (const control of controls(form, parameter.name)) {
      if (control.tagName !== "SELECT" || control.multiple) continue;
      if ([...control.options].some((option) => option.value === value)) continue;
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label.replace("{value}", value);
      option.dataset.given = "true";
      control.append(option);
      control.value = value;
    }
  }
}

// "within" (kind:metres,…) has one select per kind, all named "within": the form joins their
// values with commas (the parameter is "multiple"), and a link's value is split back here, each
// part into its kind's select (data-kind), kept even when that select does not offer it.
function keepWithin(form, parameter, value, label) {
  const selects = controls(form, parameter.name).filter((control) => control.tagName === "SELECT");
  for (const part of value.split(",").map((item) => item.trim()).filter(Boolean)) {
    const kind = part.split(":")[0];
    const control = selects.find((select) => select.dataset.kind === kind) || selects[0];
    if (!control) continue;
    if (![...control.options].some((option) => option.value === part)) {
      const option = document.createElement("option");
      option.value = part;
      option.textContent = label.replace("{value}", part);
      option.dataset.given = "true";
      control.append(option);
    }
    control.value = part;
  }
}

// Writes the filter (and list state) into the address, so the link can be shared; signed-in staff
// see an export link for the same selection, kept in step here.
export function updateUrl(pageUrl, params, map) {
  const query = params.toString();
  history.replaceState(null, "", `${pageUrl}${query ? `?${query}` : ""}${viewHash(map)}`);
  rememberView(map);
  const exportLink = document.getElementById("export-link");
  if (exportLink) exportLink.search = query ? `?${query}` : "";
}

export function keepViewInUrl(map) {
  history.replaceState(null, "", `${location.pathname}${location.search}${viewHash(map)}`);
  rememberView(map);
}

export function pageFromUrl() {
  return Number(new URLSearchParams(location.search).get("page") || 1);
}
