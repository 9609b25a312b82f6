// Shows whether the page's live-update socket is connected.
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
})();
