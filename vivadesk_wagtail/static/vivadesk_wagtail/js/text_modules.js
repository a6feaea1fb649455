/*
 * Text modules in the reply box of the ticket screen: filters the offered
 * modules as the agent types, fetches the chosen one filled in for this
 * ticket (staff/text_modules.py, JSON) and inserts it into the reply at the
 * cursor. The ids of inserted modules go into a hidden field of the reply
 * form; the server counts them when the reply is sent.
 */
(function () {
  "use strict";

  function words(value) {
    return (value || "").toLowerCase().split(/\s+/).filter(Boolean);
  }

  function Picker(root) {
    this.root = root;
    this.target = document.getElementById(root.dataset.target);
    this.used = document.getElementById(root.dataset.used);
    this.search = root.querySelector(".vd-text-modules__search");
    this.items = Array.prototype.slice.call(
      root.querySelectorAll(".vd-text-modules__item")
    );
    this.none = root.querySelector(".vd-text-modules__none");
    this.status = root.querySelector(".vd-text-modules__status");
    if (this.search) {
      this.search.addEventListener("input", this.filter.bind(this));
      this.search.addEventListener("keydown", this.onSearchKey.bind(this));
    }
    root.addEventListener("click", this.onClick.bind(this));
    root.addEventListener("toggle", this.onToggle.bind(this));
  }

  Picker.prototype.onToggle = function () {
    if (this.root.open && this.search) {
      this.search.focus();
    }
  };

  Picker.prototype.filter = function () {
    var wanted = words(this.search.value);
    var shown = 0;
    this.items.forEach(function (item) {
      var text = item.dataset.search || "";
      var match = wanted.every(function (word) {
        return text.indexOf(word) !== -1;
      });
      item.hidden = !match;
      shown += match ? 1 : 0;
    });
    if (this.none) {
      this.none.hidden = shown > 0;
    }
  };

  Picker.prototype.onSearchKey = function (event) {
    if (event.key !== "Enter") {
      return;
    }
    // Enter picks the first module shown instead of sending the reply.
    event.preventDefault();
    var first = this.items.filter(function (item) {
      return !item.hidden;
    })[0];
    if (first) {
      first.querySelector("button").click();
    }
  };

  Picker.prototype.onClick = function (event) {
    var button = event.target.closest(".vd-text-modules__insert");
    if (!button || !this.root.contains(button)) {
      return;
    }
    event.preventDefault();
    this.fetchText(button);
  };

  Picker.prototype.fetchText = function (button) {
    var self = this;
    button.disabled = true;
    fetch(button.dataset.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        self.insert(data.text);
        self.remember(String(data.id));
        self.say(
          (self.root.dataset.inserted || "").split("%(title)s").join(button.dataset.title)
        );
        self.root.open = false;
        self.target.focus();
      })
      .catch(function () {
        self.say(self.root.dataset.error || "");
      })
      .then(function () {
        button.disabled = false;
      });
  };

  Picker.prototype.insert = function (text) {
    var area = this.target;
    var start = area.selectionStart;
    var end = area.selectionEnd;
    if (typeof start !== "number") {
      start = end = area.value.length;
    }
    area.setRangeText(text, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  };

  Picker.prototype.remember = function (id) {
    if (!this.used) {
      return;
    }
    var ids = this.used.value ? this.used.value.split(",") : [];
    if (ids.indexOf(id) === -1) {
      ids.push(id);
    }
    this.used.value = ids.join(",");
  };

  Picker.prototype.say = function (message) {
    if (this.status) {
      this.status.textContent = message;
    }
  };

  function start() {
    document.querySelectorAll("[data-vd-text-modules]").forEach(function (root) {
      if (!root.vdTextModules) {
        root.vdTextModules = new Picker(root);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
