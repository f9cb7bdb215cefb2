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

  function applyChannel() {
    const channel = currentChannel();
    const parts = CHANNEL_PARTS[channel] || ALL_PARTS;
    ALL_PARTS.forEach(function (part) {
      setShown(".campaign-contents .form-row.field-" + part, parts.includes(part));
    });
    setShown(".fieldBox.field-track_opens", channel === "email");
    const category = currentCategory();
    if (category) {
      setShown(".form-row.field-create_new_profiles", category === "transactional");
      setShown(".form-row.field-audience", category === "marketing");
    }
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
    ["id_channel", "id_category"].forEach(function (id) {
      const select = document.getElementById(id);
      if (select) {
        select.addEventListener("change", applyChannel);
      }
    });
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
