/*
 * Attachments: checks chosen files against the server's limits before they
 * are sent, lists them with a remove button, and sends the form with upload
 * progress. The limits and messages come from the file input's data-*
 * attributes (vivadesk_wagtail/fields.py); the server checks everything again.
 * Without this script the forms work as plain HTML forms.
 */
(function () {
  "use strict";

  var MEDIA_FAMILIES = /^(video|audio|font|model|image)\//;

  function format(template, name) {
    return (template || "").split("%(name)s").join(name);
  }

  function extension(name) {
    var dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot).toLowerCase() : "";
  }

  function words(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  function canRebuild() {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items;
    } catch (error) {
      return false;
    }
  }

  function Picker(input) {
    var data = input.dataset;
    this.input = input;
    this.limits = {
      size: parseInt(data.maxSize, 10) || 0,
      count: parseInt(data.maxCount, 10) || 0,
      total: data.maxTotal === undefined ? null : parseInt(data.maxTotal, 10),
      types: words(data.allowedTypes),
      forbidden: words(data.forbiddenExtensions),
    };
    this.chosen = [];
    this.rebuild = canRebuild();

    this.status = document.createElement("div");
    this.status.className = "vivadesk-attachments__messages";
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.list = document.createElement("ul");
    this.list.className = "vivadesk-attachments__list";
    this.list.setAttribute("aria-label", data.labelChosen || "");
    this.list.hidden = true;
    input.insertAdjacentElement("afterend", this.status);
    input.insertAdjacentElement("afterend", this.list);

    input.addEventListener("change", this.onChange.bind(this));
  }

  Picker.prototype.problem = function (file, kept) {
    var data = this.input.dataset;
    var limits = this.limits;
    var type = (file.type || "").toLowerCase();
    if (limits.forbidden.indexOf(extension(file.name)) !== -1) {
      return data.msgType;
    }
    if (type && MEDIA_FAMILIES.test(type) && limits.types.indexOf(type) === -1) {
      return data.msgType;
    }
    if (file.size === 0) {
      return data.msgEmpty;
    }
    if (limits.size && file.size > limits.size) {
      return data.msgSize;
    }
    if (limits.count && kept.length >= limits.count) {
      return data.msgCount;
    }
    if (limits.total !== null) {
      var used = kept.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (used + file.size > limits.total) {
        return data.msgTotal;
      }
    }
    return null;
  };

  Picker.prototype.onChange = function () {
    var picked = Array.prototype.slice.call(this.input.files || []);
    var kept = this.rebuild ? this.chosen.slice() : [];
    var refused = [];
    picked.forEach(function (file) {
      var same = kept.some(function (f) {
        return f.name === file.name && f.size === file.size &&
          f.lastModified === file.lastModified;
      });
      if (same) {
        return;
      }
      var problem = this.problem(file, kept);
      if (problem) {
        refused.push(format(problem, file.name));
      } else {
        kept.push(file);
      }
    }, this);
    this.showMessages(refused);
    this.chosen = kept;
    if (this.rebuild) {
      this.sync();
    }
  };

  Picker.prototype.showMessages = function (texts) {
    this.status.textContent = "";
    if (!texts.length) {
      return;
    }
    var list = document.createElement("ul");
    list.className = "vivadesk-attachments__errors";
    texts.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    this.status.appendChild(list);
  };

  /* The input's files become the kept ones; the list shows them. */
  Picker.prototype.sync = function () {
    var transfer = new DataTransfer();
    this.chosen.forEach(function (file) { transfer.items.add(file); });
    this.input.files = transfer.files;
    this.list.textContent = "";
    this.list.hidden = this.chosen.length === 0;
    this.chosen.forEach(function (file, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.className = "vivadesk-attachments__name";
      name.textContent = file.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "vivadesk-attachments__remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", format(this.input.dataset.labelRemove, file.name));
      remove.addEventListener("click", this.remove.bind(this, index));
      item.appendChild(name);
      item.appendChild(remove);
      this.list.appendChild(item);
    }, this);
  };

  Picker.prototype.remove = function (index) {
    this.chosen.splice(index, 1);
    this.showMessages([]);
    this.sync();
    var buttons = this.list.querySelectorAll("button");
    (buttons[Math.min(index, buttons.length - 1)] || this.input).focus();
  };

  /* Sending: one submit only, with a progress bar. */
  function submitButtons(form) {
    return Array.prototype.slice.call(form.querySelectorAll(
      "button:not([type]), button[type=submit], input[type=submit]"
    ));
  }

  function hasFiles(form) {
    return Array.prototype.some.call(
      form.querySelectorAll("input[type=file]"),
      function (input) { return input.files && input.files.length > 0; }
    );
  }

  function showSending(form, labels) {
    var buttons = submitButtons(form);
    buttons.forEach(function (button) {
      button.disabled = true;
      if (labels.sending && button.tagName === "BUTTON") {
        button.dataset.vdLabel = button.textContent;
        button.textContent = labels.sending;
      }
    });
    form.setAttribute("aria-busy", "true");
    var progress = document.createElement("progress");
    progress.className = "vivadesk-attachments__progress";
    progress.max = 100;
    if (labels.progress) {
      progress.setAttribute("aria-label", labels.progress);
    }
    var anchor = buttons[buttons.length - 1];
    if (anchor) {
      anchor.insertAdjacentElement("afterend", progress);
    } else {
      form.appendChild(progress);
    }
    return progress;
  }

  /* The page the server answered with replaces this one, at its address. */
  function showResponse(html, url) {
    document.open();
    document.write(html);
    document.close();
    if (url && url !== window.location.href) {
      window.history.replaceState(null, "", url);
    }
    window.scrollTo(0, 0);
  }

  function send(form, progress) {
    var xhr = new XMLHttpRequest();
    var fallback = function () { HTMLFormElement.prototype.submit.call(form); };
    xhr.open("POST", form.action || window.location.href);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        progress.value = Math.round((event.loaded / event.total) * 100);
      }
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") !== 0) {
        fallback();
        return;
      }
      try {
        showResponse(xhr.responseText, xhr.responseURL);
      } catch (error) {
        window.location.assign(xhr.responseURL || window.location.href);
      }
    });
    xhr.addEventListener("error", fallback);
    xhr.send(new FormData(form));
  }

  /* A page restored from the back-forward cache can be sent again. */
  function resetSending(form) {
    delete form.dataset.vdSending;
    form.removeAttribute("aria-busy");
    submitButtons(form).forEach(function (button) {
      button.disabled = false;
      if (button.dataset.vdLabel) {
        button.textContent = button.dataset.vdLabel;
      }
    });
    Array.prototype.forEach.call(
      form.querySelectorAll(".vivadesk-attachments__progress"),
      function (progress) { progress.remove(); }
    );
  }

  function watchForm(form, labels) {
    if (form.dataset.vdWatched) {
      return;
    }
    form.dataset.vdWatched = "1";
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        resetSending(form);
      }
    });
    form.addEventListener("submit", function (event) {
      if (form.dataset.vdSending) {
        event.preventDefault();
        return;
      }
      form.dataset.vdSending = "1";
      var useXhr = hasFiles(form) && typeof FormData === "function" &&
        "upload" in new XMLHttpRequest() && window.history.replaceState;
      var progress = showSending(form, labels);
      if (useXhr) {
        event.preventDefault();
        send(form, progress);
      } else {
        progress.removeAttribute("value");
      }
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[type=file][data-vd-attachments]");
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.dataset.vdReady) {
        return;
      }
      input.dataset.vdReady = "1";
      new Picker(input);
      if (input.form) {
        watchForm(input.form, {
          sending: input.dataset.labelSending,
          progress: input.dataset.labelProgress,
        });
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
