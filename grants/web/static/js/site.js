// Progressive enhancement only: every page works without this file.
// Elements with data-poll="URL" ask the URL (JSON {"done": bool}) every 1.5 s and reload the
// page once the background work is done, so people need not press "refresh".
(function () {
  function poll(el) {
    var url = el.getAttribute("data-poll");
    var tries = 0;
    function tick() {
      tries += 1;
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.done) { window.location.reload(); }
          else if (tries < 400) { window.setTimeout(tick, 1500); }
        })
        .catch(function () { if (tries < 400) { window.setTimeout(tick, 3000); } });
    }
    window.setTimeout(tick, 800);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
  });
})();
