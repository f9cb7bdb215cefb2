/* Campaign change page: show the content fields of the chosen channel, live preview,
   copy the curl sample. Plain JavaScript, no dependencies (the admin works offline). */
"use strict";
(function () {
  const CHANNEL_PARTS = {
    email: ["subject", "preheader", "html", "text"],
    sms: ["body"],
    push: ["title", "body", "deep_link", "image_url"],
  };
  const ALL_PARTS = ["subject", "preheader", "html", "text", "title", "body", "deep_link", "image_url"];

  function currentChannel() {
    const select = document.getElementById("id_channel");
    if (select) {
      return select.value;
    }
    const steps = document.getElementById("clarion-steps");
    return steps ? steps.dataset.channel : "email";
  }

  function currentCategory() {
    const select = document.getElementById("id_category");
    return select ? select.value : null;
  }

  function setShown(selector, shown) {
    document.querySelectorAll(selector).forEach(function (element) {
      // A field with an error stays visible, so the error is never hidden.
      const hasError = element.classList.contains("errors") || element.querySelector(".errorlist");
      element.hidden = !shown && !hasError;
    });
  }

  // What each channel can track comes from the server (TRACKING_BY_CHANNEL).
  function trackingOf(channel) {
    const node = document.getElementById("clarion-channel-tracking");
    const tracking = node ? JSON.parse(node.textContent) : {};
    return tracking[channel] || [];
  }

  function applyTracking(channel) {
    const supported = trackingOf(channel);
    ["opens", "clicks"].forEach(function (option) {
      // The box and its help text, so no help is left under a hidden option.
      document.querySelectorAll(".fieldBox.field-track_" + option).forEach(function (box) {
        box.parentElement.hidden = !supported.includes(option);
      });
    });
    document.querySelectorAll(".form-row.field-track_opens").forEach(function (row) {
      row.hidden = supported.length === 0;
    });
  }

  // Refill the channel configuration select with the chosen channel's configurations
  // (data-options, from the form); the server refuses another channel's anyway.
  function applyConfigurations(channel) {
    const select = document.getElementById("id_channel_configuration");
    if (!select || !select.dataset.options) {
      return;
    }
    const options = JSON.parse(select.dataset.options)[channel] || [];
    const chosen = select.value;
    const blank = Array.from(select.options).find(function (option) {
      return option.value === "";
    });
    select.replaceChildren();
    if (blank) {
      select.appendChild(blank);
    }
    options.forEach(function ([value, label]) {
      select.appendChild(new Option(label, value, false, value === chosen));
    });
    if (select.value !== chosen) {
      select.dispatchEvent(new Event("change", { bubbles: true })); // the edit link follows
    }
  }

  function applyChannel() {
    const channel = currentChannel();
    const parts = CHANNEL_PARTS[channel] || ALL_PARTS;
    ALL_PARTS.forEach(function (part) {
      setShown(".campaign-contents .form-row.field-" + part, parts.includes(part));
    });
    applyTracking(channel);
    const category = currentCategory();
    if (category) {
      setShown(".form-row.field-create_new_profiles", category === "transactional");
      setShown(".form-row.field-audience", category === "marketing");
    }
  }

  // The review page's "Go to field" links end in "#field-<name>" or
  // "#field-contents-<n>-<part>" (campaigns/admin/views.py field_anchor). Django gives
  // the rows only a "field-<name>" class, so name them, then scroll to and mark the row.
  function nameRows() {
    document.querySelectorAll("#clarion-steps .form-row, #clarion-steps .fieldBox").forEach(function (row) {
      const names = Array.from(row.classList).filter(function (name) {
        return name.startsWith("field-");
      });
      if (names.length !== 1) {
        return; // a line of several fields: each of its boxes is named instead
      }
      const inline = row.closest(".inline-related[id]");
      if (inline && inline.id.endsWith("-empty")) {
        return; // the template Django copies for "Add another"
      }
      row.id = inline ? "field-" + inline.id + "-" + names[0].slice("field-".length) : names[0];
    });
  }

  function showTarget() {
    document.querySelectorAll(".clarion-targeted").forEach(function (element) {
      element.classList.remove("clarion-targeted");
    });
    const id = decodeURIComponent(window.location.hash.slice(1));
    const row = id ? document.getElementById(id) : null;
    if (!row) {
      return;
    }
    row.hidden = false;
    row.classList.add("clarion-targeted");
    row.scrollIntoView({ block: "center" });
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showPreview(data) {
    const result = document.getElementById("clarion-preview-result");
    const list = document.getElementById("clarion-preview-parts");
    result.querySelector("[data-part=locale]").textContent = data.locale;
    list.replaceChildren();
    Object.entries(data.parts).forEach(function ([part, value]) {
      const term = document.createElement("dt");
      term.textContent = list.getAttribute("data-label-" + part.toLowerCase()) || part;
      const detail = document.createElement("dd");
      detail.dataset.part = part;
      if (part === "html") {
        // The marketer's HTML runs in a sandbox: no scripts, no access to the admin.
        const frame = document.createElement("iframe");
        frame.setAttribute("sandbox", "");
        frame.setAttribute("title", term.textContent);
        frame.className = "clarion-preview-frame";
        frame.srcdoc = value;
        detail.appendChild(frame);
      } else {
        const pre = document.createElement("pre");
        pre.textContent = value;
        detail.appendChild(pre);
      }
      list.append(term, detail);
    });
    result.hidden = false;
  }

  function showWarnings(warnings) {
    // Variables that rendered empty, beside the preview: the sample lacks them.
    const list = document.getElementById("clarion-preview-warnings");
    list.replaceChildren();
    (warnings || []).forEach(function (warning) {
      const item = document.createElement("li");
      item.dataset.field = warning.field;
      item.dataset.variable = warning.variable;
      item.textContent = warning.field + ": " + warning.message;
      list.appendChild(item);
    });
    list.hidden = list.children.length === 0;
  }

  function showErrors(messages) {
    const list = document.getElementById("clarion-preview-errors");
    list.replaceChildren();
    messages.forEach(function (message) {
      const item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
    list.hidden = messages.length === 0;
  }

  function preview() {
    const panel = document.getElementById("clarion-preview");
    const body = new FormData();
    body.append("locale", document.getElementById("clarion-preview-locale").value);
    body.append("profile", document.getElementById("clarion-preview-profile").value);
    body.append("context", document.getElementById("clarion-preview-context").value);
    fetch(panel.dataset.url, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.ok) {
          showErrors([]);
          showWarnings(data.warnings);
          showPreview(data);
        } else {
          document.getElementById("clarion-preview-result").hidden = true;
          showWarnings([]);
          showErrors(data.errors);
        }
      })
      .catch(function (error) {
        showErrors([String(error)]);
      });
  }

  function copyCurl(button) {
    const text = document.getElementById("clarion-curl-sample").textContent;
    const done = function () {
      button.textContent = button.dataset.copied;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("clarion-curl-sample"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      document.execCommand("copy");
      done();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyChannel();
    nameRows();
    showTarget();
    window.addEventListener("hashchange", showTarget);
    ["id_channel", "id_category"].forEach(function (id) {
      const select = document.getElementById(id);
      if (select) {
        select.addEventListener("change", applyChannel);
      }
    });
    const channelSelect = document.getElementById("id_channel");
    if (channelSelect) {
      channelSelect.addEventListener("change", function () {
        applyConfigurations(channelSelect.value);
      });
    }
    document.addEventListener("formset:added", applyChannel);
    const button = document.getElementById("clarion-preview-button");
    if (button) {
      button.addEventListener("click", preview);
    }
    const copy = document.getElementById("clarion-copy-curl");
    if (copy) {
      copy.addEventListener("click", function () {
        copyCurl(copy);
      });
    }
  });
})();
