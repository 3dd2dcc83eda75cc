// The embed builder's "Kopieren" button: without JavaScript the code is in a read-only text
// area to select and copy by hand; with it, the button copies the code and says so.
const button = document.getElementById("copy-code");
const code = document.getElementById("embed-code");
const status = document.getElementById("copy-status");

async function copy() {
  try {
    await navigator.clipboard.writeText(code.value);
    status.textContent = button.dataset.copied;
  } catch {
    code.focus();
    code.select();
    status.textContent = button.dataset.failed;
  }
}

if (button && code) {
  button.hidden = false;
  button.addEventListener("click", copy);
  code.addEventListener("focus", () => code.select());
}
