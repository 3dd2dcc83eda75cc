// The job alert box below the list (templates/alerts/_box.html). Its hidden inputs carry the
// filter the map shows: the same parameters atlas.js asks the API for (filterQuery over the
// declared parameters), so an alert means exactly what the map showed. They follow the filter
// panel: every change, the reset link, a point picked on the map (each load of the map data),
// and once more right before the form is sent. Without JavaScript the server writes them from
// the page's address.
//
// Opened from an alert's change link (/?<filter>#suchauftrag=<token>), the box saves the filter
// onto that alert instead of creating one: the token is kept in this tab's sessionStorage (atlas.js
// rewrites the address's #…, so this module runs first) and the form posts to
// /suchauftrag/<token>/aendern, without the e-mail and consent fields. Texts come from the box's
// data-* attributes and are set with textContent.
import { filterQuery } from "./atlas/state.js";

const box = document.getElementById("job-alert");
const filterForm = document.getElementById("filter-form");
const atlas = document.getElementById("atlas");
const CHANGE_KEY = "atlas:alert-change";
const TOKEN = /^[A-Za-z0-9_.-]{10,400}$/;

function storage(action) {
  try {
    return action(sessionStorage);
  } catch {
    return null; // storage switched off: the change link works for this page only
  }
}

// The token of a change link: from the address (#suchauftrag=…), else kept from earlier in this tab.
function changeToken() {
  const match = /^#suchauftrag=([A-Za-z0-9_.%-]+)$/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]);
    if (TOKEN.test(token)) {
      storage((store) => store.setItem(CHANGE_KEY, token));
      return token;
    }
  }
  const kept = storage((store) => store.getItem(CHANGE_KEY));
  return kept && TOKEN.test(kept) ? kept : null;
}

if (box && filterForm && atlas) {
  const token = changeToken();
  const form = box.querySelector("form.alert-form");
  const holder = form.querySelector(".alert-filter");
  const config = JSON.parse(atlas.dataset.config);
  const parameters = ((config.sources || [])[0] || {}).parameters || [];

  const sync = () => {
    const inputs = [];
    for (const [name, value] of filterQuery(filterForm, parameters)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      inputs.push(input);
    }
    holder.replaceChildren(...inputs);
  };

  filterForm.addEventListener("input", sync);
  filterForm.addEventListener("change", sync);
  const reset = document.getElementById("reset-filters");
  if (reset) reset.addEventListener("click", () => setTimeout(sync, 0));
  // Every load of the map data follows a change of the filter (also one made by script).
  new MutationObserver(sync).observe(atlas, { attributes: true, attributeFilter: ["data-loads"] });
  form.addEventListener("submit", () => {
    sync();
    if (token) storage((store) => store.removeItem(CHANGE_KEY));
  });
  sync();

  if (token) {
    const title = box.querySelector("h2");
    const intro = box.querySelector("#job-alert-intro");
    const submit = form.querySelector("button[type=submit]");
    const subscriber = form.querySelector(".alert-subscriber");
    // The link to the box near the map (templates/public/index.html), if the page has one.
    const jump = document.querySelector(".alert-jump a") || document.createElement("a");
    const before = {
      action: form.getAttribute("action"),
      title: title.textContent,
      intro: intro.textContent,
      submit: submit.textContent,
      jump: jump.textContent,
    };
    const fields = [...subscriber.querySelectorAll("input")];
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.id = "alert-change-cancel";
    cancel.textContent = box.dataset.changeCancel;

    form.setAttribute("action", form.dataset.changeUrl.replace("__token__", encodeURIComponent(token)));
    title.textContent = box.dataset.changeTitle;
    intro.textContent = box.dataset.changeIntro;
    submit.textContent = box.dataset.changeSubmit;
    jump.textContent = box.dataset.changeJump;
    subscriber.hidden = true;
    for (const field of fields) field.disabled = true;
    box.classList.add("changing");
    submit.after(cancel);

    cancel.addEventListener("click", () => {
      storage((store) => store.removeItem(CHANGE_KEY));
      form.setAttribute("action", before.action);
      title.textContent = before.title;
      intro.textContent = before.intro;
      submit.textContent = before.submit;
      jump.textContent = before.jump;
      subscriber.hidden = false;
      for (const field of fields) field.disabled = false;
      box.classList.remove("changing");
      cancel.remove();
      submit.focus();
    });
  }
}
