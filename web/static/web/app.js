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
})();
