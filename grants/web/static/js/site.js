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
  // Forms with data-autosave="URL" are saved in the background a few seconds after the last
  // change, so that nothing typed is lost when the browser closes. The page itself still saves
  // with its buttons when there is no script.
  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = document.getElementById("autosave-status");
    var timer = null;
    var lang = document.documentElement.lang;
    function save() {
      var data = new FormData(form);
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "X-Autosave": "1", "Accept": "application/json" } })
        .then(function (r) {
          // a refused input (e.g. a control character) says why: show it where "saved" would be
          return r.json().catch(function () { return null; });
        })
        .then(function (res) {
          if (res && res.error && status) {
            status.textContent = res.error;
          } else if (res && res.saved && status) {
            var t = new Date().toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
            status.textContent = (lang === "en" ? "Saved automatically at " : "Automatisch gespeichert um ") + t;
          }
        })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(save, 3000);
    });
  }
  // Elements with data-live="URL" show the text the URL answers ({"text": ...}), refreshed every
  // 5 s, without reloading the page (focus and typing stay where they are).
  function live(el) {
    var url = el.getAttribute("data-live");
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.text && el.textContent.trim() !== data.text) {
            el.textContent = data.text;
            el.classList.toggle("flash-error", !data.reached);
          }
        })
        .catch(function () {})
        .then(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 5000);
  }
  // A table that scrolls sideways on a small screen (see site.css) can be reached and scrolled
  // with the keyboard: it takes the focus while it is wider than its box.
  function scrollable() {
    document.querySelectorAll("table").forEach(function (t) {
      if (t.scrollWidth > t.clientWidth + 1) { t.setAttribute("tabindex", "0"); }
      else if (t.getAttribute("tabindex") === "0") { t.removeAttribute("tabindex"); }
    });
  }
  window.addEventListener("resize", scrollable);
  document.addEventListener("DOMContentLoaded", function () {
    scrollable();
    document.querySelectorAll("[data-live]").forEach(live);
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("form[data-autosave]").forEach(autosave);
  });
})();
