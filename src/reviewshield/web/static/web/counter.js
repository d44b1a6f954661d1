// A live character count under each free text that has a limit (the server enforces the limit;
// this only shows it). The count starts as "At most N characters." written by the server.
(function () {
  "use strict";
  document.querySelectorAll("[data-counter]").forEach(function (field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    if (!out || !out.getAttribute("data-of")) return;
    var max = Number(field.getAttribute("maxlength"));
    function show() {
      var n = field.value.length; // as the browser's own maxlength counts
      out.textContent = out.getAttribute("data-of").replace("{count}", n);
      out.classList.toggle("full", n >= max);
    }
    field.addEventListener("input", show);
    show();
  });
})();
