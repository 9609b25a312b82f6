// Small glue around htmx: the live-update badge, form errors and failed requests.
(function () {
  function setLive(state) {
    var badge = document.getElementById("live-status");
    if (badge) {
      badge.textContent = state;
      badge.dataset.state = state;
    }
  }
  document.addEventListener("htmx:wsOpen", function () { setLive("live"); });
  // A page without a live socket (History, System) has nothing to show there.
  document.addEventListener("DOMContentLoaded", function () {
    var badge = document.getElementById("live-status");
    if (badge && !document.querySelector("[ws-connect]")) badge.parentElement.hidden = true;
  });
  document.addEventListener("htmx:wsClose", function () { setLive("reconnecting"); });

  function flash(text) {
    var box = document.getElementById("flashes");
    if (!box) return;
    var p = document.getElementById("request-error") || document.createElement("p");
    p.id = "request-error";
    p.className = "flash error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.appendChild(p);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 422) {
      // A form that did not validate comes back with its errors: show it.
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else if (xhr.responseURL && new URL(xhr.responseURL).pathname === "/login/") {
      // The session ended: go to the login page instead of swapping it in.
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var old = document.getElementById("request-error");
    if (event.detail.successful && old) old.remove();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status !== 422) {
      flash(status === 404 ? "That item no longer exists." : "The request failed (" + status + "). Please try again.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    flash("Could not reach MVidarr. Check your connection and try again.");
  });
})();

// Library: "select all on this page" for the bulk form and a count of the
// selection. Rows that htmx swaps in (live updates) keep their tick; after a
// bulk action they come back unticked.
(function () {
  var FORM = "bulk-form";
  var picked = new Set();
  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="video"][form="' + FORM + '"]'));
  }
  function refresh() {
    var list = boxes();
    list.forEach(function (box) { box.checked = picked.has(box.value); });
    var ticked = list.filter(function (box) { return box.checked; }).length;
    var all = document.querySelector('[data-select-all="' + FORM + '"]');
    if (all) {
      all.checked = ticked > 0 && ticked === list.length;
      all.indeterminate = ticked > 0 && ticked < list.length;
    }
    var count = document.getElementById("bulk-count");
    if (count) count.textContent = ticked ? ticked + " selected" : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });
    boxes().forEach(function (box) { if (box.checked) picked.add(box.value); });
    refresh();
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.selectAll === FORM) {
      boxes().forEach(function (box) {
        if (target.checked) picked.add(box.value); else picked.delete(box.value);
      });
    } else if (target.name === "video" && target.getAttribute("form") === FORM) {
      if (target.checked) picked.add(target.value); else picked.delete(target.value);
    } else {
      return;
    }
    refresh();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && event.detail.elt && event.detail.elt.id === FORM) picked.clear();
  });
  ["htmx:afterSettle", "htmx:wsAfterMessage"].forEach(function (name) {
    document.addEventListener(name, function () { if (document.getElementById(FORM)) refresh(); });
  });
})();

// "Copy" buttons (<button data-copy="ID">) copy the value of the element ID,
// e.g. a new API key. The clipboard API needs a secure context (HTTPS or
// localhost); elsewhere the text is selected and copied the old way.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.dataset.copy);
  if (!field) return;
  var said = document.getElementById(button.dataset.copy.replace(/-value$/, "") + "-copied");
  function done(ok) {
    if (said) said.textContent = ok ? "Copied." : "Select the key and copy it yourself.";
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
  } else {
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
});

// Live fragments from the UI socket update whatever of them the page shows,
// and a page shows only part (one Library page, a status filter, a row whose
// insert is still on its way); the same holds for out-of-band parts of a
// response (a row to move that is on another page). htmx reports each one
// whose target is missing as an error (htmx:oobErrorNoTarget): drop those
// here first. <body hx-ext="skip-absent"> applies this to every page.
htmx.defineExtension("skip-absent", {
  transformResponse: function (text, xhr) {
    var socket = !xhr;
    if (!socket && (text.indexOf("hx-swap-oob") < 0 || /<html[\s>]/i.test(text))) return text;
    var template = document.createElement("template");
    template.innerHTML = text;
    var dropped = false;
    Array.prototype.slice.call(template.content.children).forEach(function (part) {
      var oob = part.getAttribute("hx-swap-oob") || (socket ? "true" : "");
      var colon = oob.indexOf(":");
      var selector = colon > 0 ? oob.slice(colon + 1) : part.id && "#" + CSS.escape(part.id);
      if (oob && selector && !document.querySelector(selector)) {
        part.remove();
        dropped = true;
      }
    });
    return dropped ? template.innerHTML : text;
  },
});
