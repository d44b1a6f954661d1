// Keeps countdowns current, shows upload progress, submits the language and shop pickers when they
// change. No build step: plain browser JavaScript, and no inline handlers in the templates (the
// Content-Security-Policy runs scripts from this site's files only).
(function () {
  "use strict";
  var L = document.documentElement.dataset;
  function plural(n, one, many) { return (n === 1 ? one : many).replace("{n}", n); }
  function left(ms) {
    if (ms <= 0) return L.timeUp;
    var m = Math.floor(ms / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d) return plural(d, L.day, L.days) + " " + plural(h, L.hour, L.hours);
    if (h) return plural(h, L.hour, L.hours) + " " + plural(mm, L.minute, L.minutes);
    return plural(Math.max(mm, 1), L.minute, L.minutes);
  }
  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      el.textContent = left(new Date(el.getAttribute("datetime")) - new Date());
    });
  }
  setInterval(tick, 30000);

  // <select data-submit-on-change>: picking an option sends its form (a <noscript> button stands in).
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.submit(); }
    });
  });
  // <input data-select-on-focus>: a link to copy is selected whole when the field gets focus.
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // A refused form: bring its problems into view, and let each link in the summary put the cursor
  // in the field it names (a link to a group of boxes goes to the first box).
  function focusField(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    var target = el.matches("input, select, textarea, button") ? el : el.querySelector("input, select, textarea") || el;
    target.focus();
    el.scrollIntoView({ block: "center" });
    return true;
  }
  document.querySelectorAll("[data-error-summary] a[data-focus]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      if (focusField(a.getAttribute("data-focus"))) ev.preventDefault();
    });
  });
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus();
  }

  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var files = form.querySelector("input[type=file]");
      if (!files || !files.files.length || !window.XMLHttpRequest) return;
      ev.preventDefault();
      var bar = form.querySelector("progress");
      bar.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      xhr.onload = function () {
        // Show the page the server answered with (it carries the confirmation message, which a
        // second request would no longer have), under its own address.
        if (xhr.responseURL && xhr.status < 400) { history.replaceState(null, "", xhr.responseURL); }
        document.open(); document.write(xhr.responseText); document.close();
      };
      xhr.send(new FormData(form));
    });
  });
})();
