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
