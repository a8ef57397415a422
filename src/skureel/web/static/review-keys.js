// Keyboard shortcuts on the review grid (skureel studio, our own file: the CSP allows no inline script).
// j / k: next / previous clip; a: approve it; r: type a reason, Enter rejects; Escape leaves the field; ?: help.
(function () {
  "use strict";
  function cells() { return Array.prototype.slice.call(document.querySelectorAll("figure.cell")); }
  function current() { return document.querySelector("figure.cell.focused"); }
  function focusCell(cell) {
    if (!cell) { return; }
    cells().forEach(function (c) { c.classList.remove("focused"); c.removeAttribute("aria-current"); });
    cell.classList.add("focused");
    cell.setAttribute("aria-current", "true");
    cell.focus({ preventScroll: true });
    cell.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = cells();
    if (!all.length) { return; }
    var at = all.indexOf(current());
    var next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    focusCell(all[next]);
  }
  function press(selector) {
    var cell = current();
    var button = cell && cell.querySelector(selector);
    if (button) { button.click(); }
  }
  function toggleHelp(show) {
    var help = document.getElementById("keys-help");
    if (help) { help.hidden = show === undefined ? !help.hidden : !show; }
  }
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT"
      || target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (typing(target)) {
      if (target.name === "reason" && event.key === "Enter") {  // Enter in the reason field rejects, never approves
        event.preventDefault();
        var form = target.form;
        var reject = form && form.querySelector("button[value=reject]");
        if (reject && target.value.trim()) { reject.click(); }
      } else if (event.key === "Escape") {
        target.blur();
        focusCell(target.closest("figure.cell"));
      }
      return;
    }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": press("button[value=approve]"); break;
      case "r": {
        var cell = current();
        var reason = cell && cell.querySelector("input[name=reason]");
        if (reason) { reason.focus(); }
        break;
      }
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      default: return;
    }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var cell = event.target.closest && event.target.closest("figure.cell");
    if (cell) { focusCell(cell); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    // after a decision the page comes back at #cell-N: keep the place, so j goes on from there
    var start = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (start && start.matches("figure.cell")) { focusCell(start); }
    var button = document.getElementById("keys-help-button");
    if (button) { button.addEventListener("click", function () { toggleHelp(); }); }
  });
}());
