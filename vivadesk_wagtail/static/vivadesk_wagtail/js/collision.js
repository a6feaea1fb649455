/*
 * Collision warning of the ticket screen (staff/_collision.html): while the
 * page is visible it posts the heartbeat form every few seconds (its
 * data-interval) and shows which other agents have the ticket open and
 * whether new messages arrived since the page was loaded; when the page
 * closes it tells the server (navigator.sendBeacon). The texts come
 * translated from the server. Without this script the page shows the
 * viewers of its load time, and a reply still never goes out over unseen
 * messages (the server's stale-form check).
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-vd-collision]");
  if (!root || !window.fetch || !window.FormData) {
    return;
  }
  var form = root.querySelector("form[data-vd-presence]");
  var viewers = root.querySelector("[data-vd-viewers]");
  var news = root.querySelector("[data-vd-news]");
  var interval = (parseInt(root.dataset.interval, 10) || 30) * 1000;
  var shown = { banner: null, notice: null };
  var timer = null;

  function paragraph(className, text) {
    var node = document.createElement("p");
    node.className = className;
    var span = document.createElement("span");
    span.textContent = text;
    node.appendChild(span);
    return node;
  }

  function showBanner(text) {
    if (text === shown.banner) {
      return;
    }
    shown.banner = text;
    viewers.replaceChildren();
    if (text) {
      viewers.appendChild(
        paragraph("vd-collision__banner help-block help-info", text)
      );
    }
  }

  function showNotice(text) {
    if (text === shown.notice) {
      return;
    }
    shown.notice = text;
    news.replaceChildren();
    if (text) {
      var node = paragraph("vd-collision__news help-block help-warning", text);
      var link = document.createElement("a");
      link.href = window.location.pathname;
      link.textContent = root.dataset.reload;
      node.appendChild(link);
      news.appendChild(node);
    }
  }

  function update(data) {
    if (!data) {
      return;
    }
    form.elements.seen_at.value = data.seen_at || form.elements.seen_at.value;
    showBanner(data.banner || "");
    showNotice(data.notice || "");
  }

  function beat() {
    if (document.visibilityState !== "visible") {
      return;
    }
    window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(update)
      .catch(function () {
        /* The next beat tries again; the page works without them. */
      });
  }

  function start() {
    if (timer === null) {
      timer = window.setInterval(beat, interval);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  function leave() {
    if (!navigator.sendBeacon) {
      return;
    }
    var data = new FormData(form);
    data.append("leave", "1");
    navigator.sendBeacon(form.action, data);
  }

  shown.banner = viewers.textContent.trim();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      beat();
      start();
    } else {
      stop();
    }
  });
  window.addEventListener("pagehide", function () {
    stop();
    leave();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      beat();
      start();
    }
  });
  if (document.visibilityState === "visible") {
    start();
  }
})();
