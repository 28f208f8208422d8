// After each htmx swap of the quiz, focus moves to the new screen's heading (or to the first field with an
// error, whose message is an alert) and the live region says where the visitor is, so keyboard and
// screen-reader users follow each step without hunting for it.
document.addEventListener("htmx:afterSettle", function (e) {
  var target = e.detail && e.detail.target;
  if (!target || target.id !== "app") return;
  var error = target.querySelector("[aria-invalid=true] input, input[aria-invalid=true]");
  var heading = target.querySelector("h1");
  var focusable = error || heading;
  if (focusable) focusable.focus({ preventScroll: true });
  var status = document.getElementById("announce");
  var screen = target.querySelector("[data-quiz-step]");
  if (!status || error) return;
  var step = screen && screen.getAttribute("data-step");
  var count = screen && screen.getAttribute("data-count");
  status.textContent = step && count ? "Question " + step + " of " + count : heading ? heading.textContent : "";
});
