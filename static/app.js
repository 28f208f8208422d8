// Moves focus to the new screen's heading after each htmx swap, so keyboard and screen-reader users
// land on the new question; the live region on #app announces it.
document.addEventListener("htmx:afterSettle", function (e) {
  var target = e.detail && e.detail.target;
  if (!target || target.id !== "app") return;
  var error = target.querySelector("[aria-invalid=true] input, input[aria-invalid=true]");
  var heading = target.querySelector("h1");
  var focusable = error || heading;
  if (focusable) focusable.focus({ preventScroll: true });
});
