// The header's language switch (templates/base.html) is a GET form that keeps the page's query
// as hidden fields, as the server saw it. A page whose script changes the address (the map's
// filters and view) would lose those changes when the language changes: on submit, the hidden
// fields are replaced by the address bar's current query (without "lang"), and the address's
// fragment (the map view) is kept. Without JavaScript the server's fields are sent as they are.
// There is deliberately no submit on change: choosing with the arrow keys must not leave the
// page (WCAG 3.2.2); the button submits.
const form = document.querySelector("form.language-switch");
if (form && new URL(form.action, window.location.href).pathname === window.location.pathname) {
  form.addEventListener("submit", () => {
    const params = new URLSearchParams(window.location.search);
    params.delete("lang");
    form.querySelectorAll("input[type=hidden]").forEach((input) => input.remove());
    const kept = [...params].map(([name, value]) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      return input;
    });
    form.prepend(...kept);
    form.action = `${window.location.pathname}${window.location.hash}`;
  });
}
