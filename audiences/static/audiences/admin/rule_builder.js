/* The audience rule builder: edits Audience.rules as nested AND/OR groups of conditions.
 *
 * The rules field (a JSON textarea) stays the form's source of truth: every change writes
 * the JSON back into it, and the server validates it (audiences/rules.py). Labels, fields
 * and operators come from the page (json_script "audience-rule-config"), so translations
 * live in Django. Errors from the server ("audience-rule-errors") are shown under the row
 * their JSON pointer names. No dependencies.
 */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    });
    (children || []).forEach((child) => child && node.appendChild(child));
    return node;
  }

  function select(options, value, attrs) {
    const node = el("select", attrs);
    options.forEach(([optionValue, label]) => {
      const option = el("option", { value: optionValue, text: label });
      if (optionValue === value) option.selected = true;
      node.appendChild(option);
    });
    return node;
  }

  function init() {
    const configNode = document.getElementById("audience-rule-config");
    const textarea = document.getElementById("id_rules");
    if (!configNode || !textarea) return;
    const config = JSON.parse(configNode.textContent);
    const errorsNode = document.getElementById("audience-rule-errors");
    let errors = errorsNode ? JSON.parse(errorsNode.textContent) : [];
    const T = config.text;
    const fieldsByValue = Object.fromEntries(config.fields.map((f) => [f.value, f]));

    /* --- JSON <-> editing state ------------------------------------------------------- */

    function valueTypeOf(value) {
      if (typeof value === "boolean") return "boolean";
      if (typeof value === "number") return "number";
      return "text";
    }

    function conditionFromJson(data) {
      const field = String(data.field || "");
      let base = field;
      let path = "";
      for (const prefix of ["attributes", "identity"]) {
        if (field.startsWith(prefix + ".")) {
          base = prefix;
          path = field.slice(prefix.length + 1);
        }
      }
      if (!fieldsByValue[base]) base = "attributes";
      const value = data.value;
      const first = Array.isArray(value) ? value[0] : value;
      let valueText = "";
      if (Array.isArray(value)) valueText = value.map(String).join(", ");
      else if (value !== undefined && value !== null) valueText = String(value);
      return {
        type: "condition",
        base: base,
        path: path,
        operator: data.operator || "",
        valueType: valueTypeOf(first),
        valueText: valueText,
        values: Array.isArray(value) ? value.map(String) : [],
      };
    }

    function groupFromJson(data) {
      return {
        type: "group",
        combinator: data.combinator === "or" ? "or" : "and",
        conditions: (data.conditions || []).map((item) =>
          item && (item.conditions || item.combinator) ? groupFromJson(item) : conditionFromJson(item || {})
        ),
      };
    }

    function typed(text, valueType) {
      const trimmed = text.trim();
      if (valueType === "number") {
        const number = Number(trimmed);
        return trimmed !== "" && Number.isFinite(number) ? number : trimmed;
      }
      if (valueType === "boolean") return trimmed === "true";
      return text;
    }

    function conditionToJson(c) {
      const field = fieldsByValue[c.base];
      const json = { field: field.free ? c.base + "." + c.path.trim() : c.base, operator: c.operator };
      const op = c.operator;
      if (op === "exists" || op === "not_exists") return json;
      if (op === "greater_than" || op === "less_than") json.value = typed(c.valueText, "number");
      else if (op === "before" || op === "after") json.value = c.valueText.trim();
      else if (op === "in" && field.kind === "consent") json.value = c.values;
      else if (op === "in") {
        json.value = c.valueText
          .split(",")
          .map((part) => part.trim())
          .filter((part) => part !== "")
          .map((part) => (field.kind === "attribute" ? typed(part, c.valueType) : part));
      } else json.value = field.kind === "attribute" ? typed(c.valueText, c.valueType) : c.valueText;
      return json;
    }

    function groupToJson(g) {
      return {
        combinator: g.combinator,
        conditions: g.conditions.map((item) => (item.type === "group" ? groupToJson(item) : conditionToJson(item))),
      };
    }

    /* --- checks before submitting: an empty value is an error at its row, never a rule
       that silently matches nothing (the server refuses it too, audiences/rule_parsing.py) */

    function valueMissing(c) {
      const field = fieldsByValue[c.base];
      const op = c.operator;
      if (op === "exists" || op === "not_exists") return false;
      if (field.kind === "consent") return op === "in" ? c.values.length === 0 : !c.valueText;
      if (field.kind === "attribute" && c.valueType === "boolean" && op !== "in") return false;
      if (op === "in") return conditionToJson(c).value.length === 0;
      return c.valueText.trim() === "";
    }

    function problems(group, pointer) {
      const found = [];
      group.conditions.forEach((item, index) => {
        const at = pointer + "/conditions/" + index;
        if (item.type === "group") {
          found.push(...problems(item, at));
          return;
        }
        const field = fieldsByValue[item.base];
        if (field.free && !item.path.trim()) found.push({ pointer: at + "/field", detail: field.missing });
        if (valueMissing(item)) found.push({ pointer: at + "/value", detail: T.valueMissing });
      });
      return found;
    }

    function newCondition() {
      return { type: "condition", base: "attributes", path: "", operator: "equals", valueType: "text", valueText: "", values: [] };
    }

    let model;
    try {
      const parsed = textarea.value.trim() ? JSON.parse(textarea.value) : {};
      model = parsed && parsed.conditions ? groupFromJson(parsed) : null;
    } catch (error) {
      model = null;
    }
    if (!model) model = { type: "group", combinator: "and", conditions: [newCondition()] };

    /* --- rendering -------------------------------------------------------------------- */

    const root = el("div", { id: "rule-builder", class: "rule-builder" });
    const jsonToggle = el("button", {
      type: "button",
      class: "button rule-json-toggle",
      text: T.showJson,
      onclick: () => textarea.classList.toggle("rule-json-visible"),
    });
    // One block in place of the textarea: the admin lays a field's widgets out in a row.
    const wrap = el("div", { class: "rule-builder-wrap" });
    textarea.parentNode.insertBefore(wrap, textarea);
    textarea.classList.add("rule-json");
    textarea.readOnly = true;
    wrap.appendChild(root);
    wrap.appendChild(jsonToggle);
    wrap.appendChild(textarea);

    function write() {
      textarea.value = JSON.stringify(groupToJson(model), null, 2);
    }

    function errorsAt(pointer, exact) {
      return errors.filter((e) =>
        exact ? e.pointer === pointer : e.pointer === pointer || e.pointer.startsWith(pointer + "/")
      );
    }

    function errorList(items) {
      if (!items.length) return null;
      return el("ul", { class: "errorlist rule-errors" }, items.map((e) => el("li", { text: e.detail })));
    }

    function rerender() {
      // Render first: rendering settles defaults (a new consent condition's status, an
      // operator the new field takes, "yes" for a boolean), and the JSON must show them.
      root.replaceChildren(renderGroup(model, null, "/rules", 1));
      write();
    }

    function changed(structural) {
      errors = []; // the server's errors are about what was submitted, not what is edited now
      if (structural) rerender();
      else write();
    }

    function renderGroup(group, parent, pointer, depth) {
      const box = el("div", { class: "rule-group", "data-pointer": pointer });
      const header = el("div", { class: "rule-group-header" }, [
        select(
          [
            ["and", T.and],
            ["or", T.or],
          ],
          group.combinator,
          {
            class: "rule-combinator",
            "aria-label": T.and + " / " + T.or,
            onchange: (event) => {
              group.combinator = event.target.value;
              changed(false);
            },
          }
        ),
        parent
          ? el("button", {
              type: "button",
              class: "button rule-remove",
              text: T.remove,
              onclick: () => {
                parent.conditions.splice(parent.conditions.indexOf(group), 1);
                changed(true);
              },
            })
          : null,
      ]);
      box.appendChild(header);
      box.appendChild(errorList(errorsAt(pointer, true).concat(errorsAt(pointer + "/combinator", true))) || el("span"));
      const list = el("div", { class: "rule-items" });
      if (!group.conditions.length) list.appendChild(el("p", { class: "help", text: T.empty }));
      list.appendChild(errorList(errorsAt(pointer + "/conditions", true)) || el("span"));
      group.conditions.forEach((item, index) => {
        const itemPointer = pointer + "/conditions/" + index;
        list.appendChild(
          item.type === "group" ? renderGroup(item, group, itemPointer, depth + 1) : renderCondition(item, group, itemPointer)
        );
      });
      box.appendChild(list);
      const actions = el("div", { class: "rule-actions" }, [
        el("button", {
          type: "button",
          class: "button rule-add-condition",
          text: T.addCondition,
          onclick: () => {
            group.conditions.push(newCondition());
            changed(true);
          },
        }),
        depth < 5
          ? el("button", {
              type: "button",
              class: "button rule-add-group",
              text: T.addGroup,
              onclick: () => {
                group.conditions.push({ type: "group", combinator: "or", conditions: [newCondition()] });
                changed(true);
              },
            })
          : null,
      ]);
      box.appendChild(actions);
      return box;
    }

    function renderCondition(c, parent, pointer) {
      const field = fieldsByValue[c.base];
      const operators = config.operators[field.kind];
      if (!operators.includes(c.operator)) c.operator = operators[0];
      const row = el("div", { class: "rule-condition", "data-pointer": pointer });
      const line = el("div", { class: "rule-line" });
      line.appendChild(
        select(
          config.fields.map((f) => [f.value, f.label]),
          c.base,
          {
            class: "rule-field",
            "aria-label": T.field,
            onchange: (event) => {
              c.base = event.target.value;
              c.path = "";
              changed(true);
            },
          }
        )
      );
      if (field.free) {
        const listId = field.options ? "rule-options-" + field.value : null;
        line.appendChild(
          el("input", {
            type: "text",
            class: "rule-path",
            value: c.path,
            placeholder: field.placeholder,
            list: listId,
            "aria-label": field.placeholder,
            oninput: (event) => {
              c.path = event.target.value;
              changed(false);
            },
          })
        );
        if (listId && !document.getElementById(listId)) {
          document.body.appendChild(
            el("datalist", { id: listId }, field.options.map((option) => el("option", { value: option })))
          );
        }
      }
      line.appendChild(
        select(
          operators.map((op) => [op, config.operatorLabels[op]]),
          c.operator,
          {
            class: "rule-operator",
            "aria-label": T.operator,
            onchange: (event) => {
              c.operator = event.target.value;
              changed(true);
            },
          }
        )
      );
      renderValue(c, field).forEach((node) => line.appendChild(node));
      line.appendChild(
        el("button", {
          type: "button",
          class: "button rule-remove",
          text: T.remove,
          onclick: () => {
            parent.conditions.splice(parent.conditions.indexOf(c), 1);
            changed(true);
          },
        })
      );
      row.appendChild(line);
      const list = errorList(errorsAt(pointer, false));
      if (list) {
        row.classList.add("rule-has-error");
        row.appendChild(list);
      }
      return row;
    }

    function renderValue(c, field) {
      const op = c.operator;
      if (op === "exists" || op === "not_exists") return [];
      const onText = (event) => {
        c.valueText = event.target.value;
        changed(false);
      };
      if (field.kind === "consent") {
        if (op === "in") {
          const node = select(config.consentStatuses, null, {
            multiple: "multiple",
            class: "rule-value rule-value-multi",
            "aria-label": T.value,
            onchange: (event) => {
              c.values = Array.from(event.target.selectedOptions).map((option) => option.value);
              changed(false);
            },
          });
          Array.from(node.options).forEach((option) => (option.selected = c.values.includes(option.value)));
          return [node];
        }
        if (!config.consentStatuses.some(([value]) => value === c.valueText)) c.valueText = config.consentStatuses[0][0];
        return [select(config.consentStatuses, c.valueText, { class: "rule-value", "aria-label": T.value, onchange: onText })];
      }
      if (op === "greater_than" || op === "less_than") {
        return [el("input", { type: "number", step: "any", class: "rule-value", value: c.valueText, "aria-label": T.value, oninput: onText })];
      }
      if (op === "before" || op === "after") {
        return [el("input", { type: "text", class: "rule-value", value: c.valueText, placeholder: T.datePlaceholder, "aria-label": T.value, oninput: onText })];
      }
      const nodes = [];
      if (field.kind === "attribute") {
        nodes.push(
          select(
            [
              ["text", T.valueText],
              ["number", T.valueNumber],
              ["boolean", T.valueBoolean],
            ],
            c.valueType,
            {
              class: "rule-value-type",
              "aria-label": T.valueType,
              onchange: (event) => {
                c.valueType = event.target.value;
                if (c.valueType === "boolean" && op !== "in") c.valueText = "true";
                changed(true);
              },
            }
          )
        );
      }
      if (field.kind === "attribute" && c.valueType === "boolean" && op !== "in") {
        if (c.valueText !== "false") c.valueText = "true";
        nodes.push(
          select(
            [
              ["true", T.yes],
              ["false", T.no],
            ],
            c.valueText,
            { class: "rule-value", "aria-label": T.value, onchange: onText }
          )
        );
        return nodes;
      }
      nodes.push(
        el("input", {
          type: "text",
          class: "rule-value",
          value: c.valueText,
          placeholder: op === "in" ? T.listPlaceholder : "",
          "aria-label": T.value,
          oninput: onText,
        })
      );
      return nodes;
    }

    /* --- kind: static audiences have no rules ----------------------------------------- */

    const kindSelect = document.getElementById("id_kind");
    const formRow = textarea.closest(".form-row") || textarea.parentNode;
    function kindNow() {
      return kindSelect ? kindSelect.value : config.kind || "rules";
    }
    function applyKind() {
      formRow.hidden = kindNow() === "static";
    }
    if (kindSelect) kindSelect.addEventListener("change", applyKind);
    applyKind();

    const form = textarea.closest("form");
    if (form) {
      form.addEventListener("submit", (event) => {
        if (kindNow() === "static") {
          textarea.value = "{}";
          return;
        }
        write();
        const found = problems(model, "/rules");
        if (!found.length) return;
        event.preventDefault();
        errors = found;
        rerender();
        const first = root.querySelector(".rule-has-error");
        if (first) first.scrollIntoView({ block: "center" });
      });
    }

    rerender();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
