// The case's BPMN diagram: bpmn-js viewer (served by the app, no CDN), current tasks and finished ones marked.
(function () {
  const box = document.getElementById("diagram");
  if (!box) return;
  const fallback = box.querySelector(".diagram-fallback");
  function fail(message) {
    if (fallback) fallback.textContent = message;
    box.dataset.state = "failed";
  }
  if (typeof window.BpmnJS !== "function") {
    fail("流程图组件未安装（运行 scripts/dev.sh setup 获取 bpmn-js），下方办理过程不受影响。");
    return;
  }
  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      const viewer = new window.BpmnJS({ container: box });
      return viewer.importXML(data.xml).then(function () {
        if (fallback) fallback.remove();
        const canvas = viewer.get("canvas");
        const registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");
        data.finished.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "task-finished"); });
        data.current.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "task-current"); });
        box.dataset.state = "ready";
        box.dataset.current = data.current.join(" ");
      });
    })
    .catch(function (error) { fail("流程图加载失败：" + error.message); });
})();
