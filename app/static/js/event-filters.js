// The event list's and calendar's filter panel: open without JavaScript; on a phone it starts
// folded (unless a filter is set or the server found an error), so the dates come first.
const panel = document.getElementById("event-filters");
if (panel && window.matchMedia("(max-width: 899px)").matches && panel.dataset.active === "0") {
  panel.open = false;
}
