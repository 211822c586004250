// Small progressive enhancements; every page works without them.
(function () {
  document.addEventListener("click", function (event) {
    const print = event.target.closest("[data-print]");
    if (print) {
      window.print();
      return;
    }
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const rows = add.parentElement.querySelector("[data-rows]");
      const last = rows.lastElementChild;
      const copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      copy.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      rows.appendChild(copy);
    }
  });
  // Choosing "需补正" shows the correction rows; other decisions hide them.
  const form = document.getElementById("decision-form");
  if (form) {
    const box = document.getElementById("corrections");
    const sync = function () {
      const chosen = form.querySelector("input[name=decision]:checked");
      box.hidden = !chosen || chosen.value !== "need_correction";
    };
    form.addEventListener("change", sync);
    sync();
  }
  // The one form asks only what applies (docs/forms.md): the same conditions the server checks (forms.conditions),
  // read from the page, decide which questions, sections and materials show as the answers change. The server
  // stays the authority: it drops answers to questions not asked and validates the rest.
  const oneForm = document.querySelector("[data-one-form]");
  const logicScript = document.getElementById("form-logic");
  if (oneForm && logicScript) {
    const logic = JSON.parse(logicScript.textContent);
    const fields = Array.from(oneForm.querySelectorAll("[data-field]"));
    const NUMBER = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;
    const INTEGER = /^[+-]?[0-9]+$/;

    // What an input holds, typed as web/schema_form.parse types it; undefined when unanswered.
    const valueOf = function (wrapper) {
      const widget = wrapper.dataset.widget;
      const inputs = Array.from(wrapper.querySelectorAll("input, select, textarea"));
      if (widget === "multi") {
        const chosen = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
        return chosen.length ? chosen : undefined;
      }
      if (widget === "boolean") {
        const chosen = inputs.find(function (i) { return i.checked; });
        return chosen ? chosen.value === "true" : undefined;
      }
      const text = (inputs[0] ? inputs[0].value : "").trim();
      if (!text) return undefined;
      if (widget === "integer") return INTEGER.test(text) ? parseInt(text, 10) : undefined;
      if (widget === "number") return NUMBER.test(text) ? parseFloat(text) : undefined;
      return text;
    };
    const isNumber = function (value) { return typeof value === "number"; };
    // forms.conditions.condition_holds: a leaf is false when its field is unanswered.
    const holds = function (condition, answers) {
      if (condition === undefined || condition === null) return true;
      if (condition.all) return condition.all.every(function (c) { return holds(c, answers); });
      if (condition.any) return condition.any.some(function (c) { return holds(c, answers); });
      if (condition.not) return !holds(condition.not, answers);
      if (!(condition.field in answers)) return false;
      const answer = answers[condition.field];
      if ("answered" in condition) return true;
      if ("equals" in condition) return answer === condition.equals;
      if ("one_of" in condition) return condition.one_of.indexOf(answer) >= 0;
      if ("contains" in condition) {
        if (typeof answer === "string") return answer.indexOf(condition.contains) >= 0;
        return Array.isArray(answer) && answer.indexOf(condition.contains) >= 0;
      }
      if (!isNumber(answer)) return false;
      if ("gt" in condition) return answer > condition.gt;
      if ("gte" in condition) return answer >= condition.gte;
      if ("lt" in condition) return answer < condition.lt;
      if ("lte" in condition) return answer <= condition.lte;
      return false;
    };
    const asked = function (name, answers) { return holds(logic.asked_when[name], answers); };

    const refresh = function () {
      let answers = {};
      fields.forEach(function (wrapper) {
        const value = valueOf(wrapper);
        if (value !== undefined) answers[wrapper.dataset.field] = value;
      });
      // forms.answers_that_apply: a dropped answer can un-ask its own follow-ups, so repeat until stable.
      for (;;) {
        const kept = {};
        Object.keys(answers).forEach(function (name) { if (asked(name, answers)) kept[name] = answers[name]; });
        if (Object.keys(kept).length === Object.keys(answers).length) break;
        answers = kept;
      }
      fields.forEach(function (wrapper) {
        const name = wrapper.dataset.field;
        const show = asked(name, answers);
        wrapper.hidden = !show;
        wrapper.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !show; });
        if (wrapper.dataset.requiredWhen) {
          const star = wrapper.querySelector(".req");
          if (star) star.hidden = !holds(JSON.parse(wrapper.dataset.requiredWhen), answers);
        }
      });
      oneForm.querySelectorAll("[data-section]").forEach(function (section) {
        section.hidden = !section.querySelector("[data-field]:not([hidden])");
      });
      const applying = {};
      oneForm.querySelectorAll("[data-material]").forEach(function (row) {
        const info = JSON.parse(row.dataset.uses);
        const uses = info.uses.filter(function (use) {
          if (!(use.item in applying)) applying[use.item] = holds(logic.items[use.item], answers);
          return applying[use.item];
        });
        const producedInside = info.produced_by.some(function (code) { return holds(logic.items[code], answers); });
        row.hidden = !uses.length || producedInside;
        const required = uses.some(function (use) { return use.required; });
        const requiredTag = row.querySelector("[data-required-tag]");
        const optionalTag = row.querySelector("[data-optional-tag]");
        if (requiredTag && optionalTag) {
          requiredTag.hidden = !required;
          optionalTag.hidden = required;
        }
      });
    };
    oneForm.addEventListener("input", refresh);
    oneForm.addEventListener("change", refresh);
    refresh();
  }
  // 结果送达: the mailing address shows only for 邮寄送达.
  document.querySelectorAll("[data-delivery-choice]").forEach(function (choice) {
    const address = choice.querySelector("[data-delivery-address]");
    const sync = function () {
      const chosen = choice.querySelector("[data-delivery-method]:checked");
      address.hidden = !chosen || chosen.value !== "post";
    };
    choice.addEventListener("change", sync);
    sync();
  });
  // 一窗通取: the recipient signs on the pad (a canvas); its PNG goes into a hidden field. A scanned signed
  // paper may be uploaded instead (the server takes either).
  document.querySelectorAll("[data-signature-pad]").forEach(function (pad) {
    const canvas = pad.querySelector("canvas");
    const field = pad.querySelector("input[type=hidden]");
    const context = canvas.getContext("2d");
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.strokeStyle = "#111";
    let drawing = false;
    let signed = false;
    const point = function (event) {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
    };
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      const [x, y] = point(event);
      context.beginPath();
      context.moveTo(x, y);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      const [x, y] = point(event);
      context.lineTo(x, y);
      context.stroke();
      signed = true;
    });
    const finish = function () {
      if (!drawing) return;
      drawing = false;
      if (signed) field.value = canvas.toDataURL("image/png");
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointerleave", finish);
    pad.querySelector("[data-signature-clear]").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      field.value = "";
      signed = false;
    });
  });
  // The handover form: an agent needs a name and the authorisation letter.
  document.querySelectorAll("[data-handover]").forEach(function (handover) {
    const agentOnly = handover.querySelectorAll("[data-agent-only]");
    const sync = function () {
      const chosen = handover.querySelector("input[name=recipient_kind]:checked");
      agentOnly.forEach(function (el) { el.hidden = !chosen || chosen.value !== "agent"; });
    };
    handover.addEventListener("change", sync);
    sync();
  });
  // The error summary takes the focus, so it is read first; its links move to the field.
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      const wrapper = target.closest("[data-field], .field");
      (wrapper || target).scrollIntoView({ block: "center" });
      const focusable = target.matches("input, select, textarea, fieldset") ? target : target.querySelector("input");
      if (focusable) focusable.focus({ preventScroll: true });
    });
  }
})();
