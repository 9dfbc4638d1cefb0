// 导入导出: upload a file (JSON/JSONL/CSV/XLSX or a platform export, optionally read through a mapping
// chosen by name or uploaded beside it), read the dry-run report (new, changed, unchanged and invalid
// rows, with reasons and what each valid row became), then confirm as drafts or published. Export the
// whole catalogue or the part the matter list is filtered to, as XLSX or JSONL.
"use strict";

(() => {
  const { h, api, act, toast, query, view } = Studio;
  const OUTCOME = { new: "新增", changed: "修改", unchanged: "无变化", invalid: "有错误" };

  function report(dry, onConfirm, onCancel) {
    const counts = h("div", { class: "row", id: "dry-run-counts" },
      ["new", "changed", "unchanged", "invalid"].map((k) => h("span", { class: `pill ${k}` }, `${OUTCOME[k]} ${dry[k]}`)));
    const publish = h("input", { type: "radio", name: "import-mode", value: "publish", id: "mode-publish" });
    const draft = h("input", { type: "radio", name: "import-mode", value: "draft", id: "mode-draft", checked: true });
    const importable = dry.new + dry.changed;
    const explain = (row) => {
      if (row.errors.length) return h("ul", {}, row.errors.map((e) => h("li", { class: "error" }, e)));
      const changed = row.changes.length ? `改动：${row.changes.map((c) => c.label).join("、")}` : "";
      return h("span", { class: "became" }, [row.became, changed].filter(Boolean).join("；"));
    };
    return h("div", { class: "card", id: "dry-run" },
      h("h2", {}, `预检结果：${dry.filename}`),
      dry.mapping ? h("p", { id: "dry-run-mapping" }, `按映射「${dry.mapping}」读取`) : null,
      h("p", { class: "muted" }, "这是试运行，尚未写入任何内容。有错误的行不会导入，其余各行确认后导入。"),
      counts,
      h("table", { class: "grid", id: "dry-run-rows" },
        h("thead", {}, h("tr", {}, ["行", "外部编号", "事项名称", "结果", "原因 / 导入后的样子"].map((t) => h("th", {}, t)))),
        h("tbody", {}, dry.rows.map((row) => h("tr", { class: row.outcome === "invalid" ? "bad" : "", "data-outcome": row.outcome },
          h("td", {}, row.row), h("td", { class: "mono" }, row.external_id || ""), h("td", {}, row.name || ""),
          h("td", {}, h("span", { class: `pill ${row.outcome}` }, OUTCOME[row.outcome] || row.outcome)),
          h("td", {}, explain(row)))))),
      h("div", { class: "row" },
        h("label", { class: "check" }, draft, "导入为草稿（发布前市民看不到）"),
        h("label", { class: "check" }, publish, "导入后立即发布")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", id: "confirm-import", disabled: importable === 0,
          onclick: () => onConfirm(publish.checked) }, importable ? `确认导入 ${importable} 个事项` : "没有可导入的事项"),
        h("button", { type: "button", onclick: onCancel }, "取消")));
  }

  function result(done) {
    return h("div", { class: "card", id: "import-result", role: "status" },
      h("h2", {}, done.publish ? "导入完成，已发布" : "导入完成，已存为草稿"),
      h("p", {}, `新增 ${done.created.length} 个，修改 ${done.updated.length} 个，无变化 ${done.unchanged} 个，跳过有错误的 ${done.errors.length} 行${(done.conflicts || []).length ? `，有冲突的 ${done.conflicts.length} 行` : ""}。`),
      done.errors.length ? h("ul", {}, done.errors.map((e) => h("li", { class: "error" }, e))) : null,
      (done.conflicts || []).length ? [
        h("h2", {}, `${done.conflicts.length} 行因事项在预检后被修改而未导入`),
        h("ul", { id: "import-conflicts" }, done.conflicts.map((c) => h("li", { class: "error" },
          h("a", { href: `#/matters/${encodeURIComponent(c.external_id)}` }, c.name || c.external_id), "：", c.message))),
      ] : null,
      h("p", {}, [...done.created, ...done.updated].slice(0, 50).map((id) => [h("a", { href: `#/matters/${encodeURIComponent(id)}` }, id), " "])));
  }

  function importCard() {
    const file = h("input", { type: "file", id: "import-file", accept: ".json,.jsonl,.csv,.xlsx", "aria-label": "选择文件" });
    const error = h("p", { class: "error", role: "alert", id: "import-error" });
    const out = h("div");
    const choice = h("select", { id: "import-mapping", "aria-label": "映射" },
      h("option", { value: "" }, "自动识别（本系统格式或已知平台）"));
    api("/api/v1/import-mappings").then((list) => list.forEach((m) =>
      choice.append(h("option", { value: m.name }, `${m.title || m.name}${m.stored ? "（本地保存）" : ""}`)))).catch(() => {});
    const mappingFile = h("input", { type: "file", id: "import-mapping-file", accept: ".yml,.yaml", "aria-label": "上传映射文件" });
    const upload = async () => {
      error.textContent = "";
      out.replaceChildren();
      if (!file.files.length) { error.textContent = "请先选择要导入的文件"; return; }
      const body = new FormData();
      body.append("file", file.files[0]);
      if (mappingFile.files.length) body.append("mapping", mappingFile.files[0]);
      else if (choice.value) body.append("mapping_name", choice.value);
      let dry;
      try { dry = await api("/api/v1/imports", { method: "POST", body }); } catch (e) { error.textContent = e.message; return; }
      out.replaceChildren(report(dry, async (publish) => {
        const done = await act(() => api(`/api/v1/imports/${dry.id}/confirm`, { method: "POST", body: { publish } }));
        if (done) { out.replaceChildren(result(done)); file.value = ""; toast("导入完成"); }
      }, () => { out.replaceChildren(); file.value = ""; }));
    };
    return h("div", {},
      h("div", { class: "card" }, h("h2", {}, "导入事项"),
        h("p", { class: "muted" }, "支持本系统导出的 JSONL / XLSX、按模板填写的 CSV / XLSX / JSON、广西政务服务网导出的 JSON，以及按映射文件读取的其他平台导出（写法见 docs/import_mappings.md）。"),
        h("div", { class: "row" }, h("label", {}, "其他平台的导出：按映射读取 ", choice), h("label", {}, "或上传映射文件（YAML）", mappingFile)),
        h("div", { class: "row" }, file, h("button", { type: "button", class: "primary", id: "upload", onclick: upload }, "上传并预检")),
        error),
      out);
  }

  function exportCard() {
    const filters = Studio.matterFilters || {};
    const filtered = ["q", "department", "region", "type", "status"].filter((k) => filters[k]);
    const only = h("input", { type: "checkbox", id: "export-filtered", checked: filtered.length > 0, disabled: filtered.length === 0 });
    const link = (format) => h("button", { type: "button", "data-format": format, onclick: () => {
      const params = { format };
      if (only.checked) for (const k of filtered) params[k] = filters[k];
      window.location.href = `/api/v1/export${query(params)}`;
    } }, `导出 ${format.toUpperCase()}`);
    return h("div", { class: "card" }, h("h2", {}, "导出事项"),
      h("div", { class: "row" }, h("label", { class: "check" }, only,
        filtered.length ? `只导出事项列表当前筛选的事项（${filtered.map((k) => filters[k]).join("，")}）` : "导出全部事项（可先在事项管理中筛选）")),
      h("div", { class: "row" }, link("xlsx"), link("jsonl")),
      h("p", { class: "muted" }, "导出的文件可修改后重新导入。"));
  }

  view("import", async (root) => {
    root.replaceChildren(h("h1", {}, "导入导出"), importCard(), exportCard());
  });
})();
