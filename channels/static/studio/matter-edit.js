// A matter's editor: every field, the materials list (add, remove, reorder, conditional), aliases.
// Saving makes a draft version with a change note; publishing makes a version live. A save on top of
// someone else's newer version comes back 409 and is shown with their changes (never overwritten
// silently). Field errors from the server (422, Chinese) are shown beside the field they concern.
"use strict";

(() => {
  const { h, api, act, toast, go } = Studio;
  const ORIGINAL_OR_COPY = ["", "原件", "复印件", "原件和复印件", "原件或复印件"];
  const MEDIUM = ["", "纸质", "电子", "纸质或电子", "纸质和电子"];
  const EXEMPT_BY = ["", "电子证照", "数据共享", "告知承诺", "其他"];
  const HANDLE_FORMS = ["窗口办理", "网上办理", "快递申请", "自助办理"];
  const NUMBER_FIELDS = new Set(["time_limit_legal_days", "time_limit_promised_days", "visits", "original_count", "copy_count"]);

  const blankMaterial = () => ({ name: "", required: true, original_or_copy: null, original_count: 1, copy_count: 0,
    medium: null, source: null, note: null, condition: null, exempt: false, exempt_by: null, data_shared: false,
    e_licence: false });
  const blankMatter = () => ({ external_id: "", name: "", department: "", aliases: [], applicant_types: [],
    handle_forms: [], materials: [], process_steps: [], bundle: [] });

  // ---------- inputs bound to the edited object ----------
  function bind(target, key, path, { type = "text", options = null, multiline = false, label = "" } = {}) {
    const read = (el) => {
      if (type === "checkbox") return el.checked;
      const v = el.value.trim();
      if (v === "") return null;
      return NUMBER_FIELDS.has(key) ? Number(v) : v;
    };
    const attrs = { "data-field": path, "aria-label": label || key, oninput: (e) => { target[key] = read(e.target); } };
    if (options) {
      return h("select", { ...attrs, onchange: attrs.oninput },
        options.map((o) => h("option", { value: o, selected: (target[key] ?? "") === o }, o || "（未填）")));
    }
    if (type === "checkbox") return h("input", { ...attrs, type, checked: Boolean(target[key]), onchange: attrs.oninput });
    if (multiline) return h("textarea", { ...attrs, value: target[key] ?? "" });
    return h("input", { ...attrs, type: NUMBER_FIELDS.has(key) ? "number" : type, min: NUMBER_FIELDS.has(key) ? 0 : null,
      value: target[key] ?? "" });
  }

  function listInput(target, key, label) { // aliases: one per line
    return h("textarea", {
      "data-field": key, "aria-label": label, value: (target[key] || []).join("\n"), placeholder: "每行一个",
      oninput: (e) => { target[key] = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean); },
    });
  }

  function checkGroup(target, key, choices) {
    return h("div", { class: "row", "data-field": key }, choices.map((choice) => h("label", { class: "check" },
      h("input", { type: "checkbox", checked: (target[key] || []).includes(choice), onchange: (e) => {
        const set = new Set(target[key] || []);
        if (e.target.checked) set.add(choice); else set.delete(choice);
        target[key] = choices.filter((c) => set.has(c));
      } }), choice)));
  }

  const field = (label, input) => [h("label", {}, label), h("div", {}, input)];

  // ---------- materials ----------
  function materialsEditor(matter) {
    const box = h("div", { class: "materials", id: "materials" });
    const render = () => {
      box.replaceChildren(...matter.materials.map((m, i) => {
        const move = (delta) => {
          const [item] = matter.materials.splice(i, 1);
          matter.materials.splice(i + delta, 0, item);
          render();
        };
        const p = `materials.${i}`;
        return h("div", { class: "material", "data-index": i },
          h("div", { class: "row" },
            h("strong", {}, `${i + 1}.`),
            h("input", { class: "name", "data-field": `${p}.name`, "aria-label": `材料${i + 1}名称`, value: m.name,
              placeholder: "材料名称", oninput: (e) => { m.name = e.target.value; } }),
            h("label", { class: "check" }, bind(m, "required", `${p}.required`, { type: "checkbox", label: "必需" }), "必需"),
            h("button", { type: "button", title: "上移", disabled: i === 0, onclick: () => move(-1) }, "↑"),
            h("button", { type: "button", title: "下移", disabled: i === matter.materials.length - 1, onclick: () => move(1) }, "↓"),
            h("button", { type: "button", class: "link", onclick: () => { matter.materials.splice(i, 1); render(); } }, "删除")),
          h("div", { class: "row" },
            "原件/复印件", bind(m, "original_or_copy", `${p}.original_or_copy`, { options: ORIGINAL_OR_COPY }),
            "原件份数", bind(m, "original_count", `${p}.original_count`),
            "复印件份数", bind(m, "copy_count", `${p}.copy_count`),
            "介质", bind(m, "medium", `${p}.medium`, { options: MEDIUM }),
            "来源", bind(m, "source", `${p}.source`, { label: "来源" })),
          h("div", { class: "row" },
            "适用情形", h("span", {}, bind(m, "condition", `${p}.condition`, { label: "适用情形" })),
            h("span", { class: "muted" }, "留空表示所有人都要；例如“委托代办时”"),
            "备注", bind(m, "note", `${p}.note`, { label: "备注" })),
          h("div", { class: "row" }, // 最多跑一次: what the citizen need not carry
            h("label", { class: "check" }, bind(m, "exempt", `${p}.exempt`, { type: "checkbox", label: "免提交" }), "免提交"),
            "免提交方式", bind(m, "exempt_by", `${p}.exempt_by`, { options: EXEMPT_BY, label: "免提交方式" }),
            h("label", { class: "check" }, bind(m, "data_shared", `${p}.data_shared`, { type: "checkbox", label: "数据共享获取" }),
              "部门通过数据共享获取"),
            h("label", { class: "check" }, bind(m, "e_licence", `${p}.e_licence`, { type: "checkbox", label: "可用电子证照" }),
              "可用电子证照")));
      }), h("button", { type: "button", id: "add-material", onclick: () => { matter.materials.push(blankMaterial()); render(); } }, "＋ 添加材料"));
    };
    render();
    return box;
  }

  function stepsEditor(matter) {
    const box = h("div", { id: "steps" });
    const render = () => box.replaceChildren(...matter.process_steps.map((s, i) => h("div", { class: "row" },
      `${i + 1}.`, bind(s, "name", `process_steps.${i}.name`, { label: "环节名称" }),
      h("span", { style: "flex:1" }, bind(s, "desc", `process_steps.${i}.desc`, { label: "环节说明" })),
      h("button", { type: "button", class: "link", onclick: () => { matter.process_steps.splice(i, 1); render(); } }, "删除"))),
    h("button", { type: "button", onclick: () => { matter.process_steps.push({ name: "", desc: null }); render(); } }, "＋ 添加环节"));
    render();
    return box;
  }

  function form(matter, isNew) {
    return h("form", { id: "matter-form", class: "card", onsubmit: (e) => e.preventDefault() },
      h("h2", {}, "基本信息"),
      h("div", { class: "form-grid" },
        field("外部编号", isNew ? bind(matter, "external_id", "external_id") : h("span", { class: "mono" }, matter.external_id)),
        field("事项名称", bind(matter, "name", "name", { label: "事项名称" })),
        field("别名（口语叫法）", listInput(matter, "aliases", "别名")),
        field("事项编码", bind(matter, "code", "code")),
        field("实施部门", bind(matter, "department", "department", { label: "实施部门" })),
        field("省 / 市 / 区县", h("div", { class: "row" }, bind(matter, "province", "province", { label: "省" }),
          bind(matter, "city", "city", { label: "市" }), bind(matter, "county", "county", { label: "区县" }))),
        field("事项类型", bind(matter, "type", "type")),
        field("服务对象", checkGroup(matter, "applicant_types", ["个人", "企业"])),
        field("办件类型", bind(matter, "processing_type", "processing_type", { options: ["", "即办件", "承诺件"] })),
        field("上级事项", h("div", { class: "row" }, bind(matter, "parent_external_id", "parent_external_id", { label: "上级事项编号" }),
          bind(matter, "parent_name", "parent_name", { label: "上级事项名称" })))),
      h("h2", {}, "一件事（可选）"),
      h("div", { class: "form-grid" },
        field("包含的事项（按办理顺序）", h("div", {}, listInput(matter, "bundle", "一件事包含的事项"),
          h("div", { class: "muted" }, "每行填一个事项的外部编号；填写后，市民问到这件事时会得到这些事项和一份合并的材料清单"))),
        field("一件事说明", bind(matter, "bundle_note", "bundle_note", { multiline: true, label: "一件事说明" }))),
      h("h2", {}, "申请材料"),
      materialsEditor(matter),
      h("h2", {}, "办理信息"),
      h("div", { class: "form-grid" },
        field("受理条件", bind(matter, "conditions", "conditions", { multiline: true })),
        field("法定时限（工作日）", bind(matter, "time_limit_legal_days", "time_limit_legal_days")),
        field("承诺时限（工作日）", bind(matter, "time_limit_promised_days", "time_limit_promised_days")),
        field("收费", bind(matter, "fee", "fee")),
        field("办理地点", bind(matter, "location", "location", { multiline: true })),
        field("办理时间", bind(matter, "hours", "hours")),
        field("办理形式", checkGroup(matter, "handle_forms", HANDLE_FORMS)),
        field("网办链接", bind(matter, "online_url", "online_url", { label: "网办链接" })),
        field("跑动次数", bind(matter, "visits", "visits", { label: "跑动次数" })),
        field("咨询电话", bind(matter, "phone", "phone")),
        field("办理流程", stepsEditor(matter))));
  }

  // ---------- errors and conflicts ----------
  function showFieldErrors(root, detail) {
    for (const el of root.querySelectorAll(".invalid")) el.classList.remove("invalid");
    for (const el of root.querySelectorAll(".field-error")) el.remove();
    const general = [];
    for (const error of Array.isArray(detail) ? detail : []) {
      const path = (error.loc || []).slice(2).join(".");
      const input = path && (root.querySelector(`[data-field="${CSS.escape(path)}"]`)
        || root.querySelector(`[data-field="${CSS.escape(path.split(".").slice(0, 3).join("."))}"]`));
      if (input) {
        input.classList.add("invalid");
        input.after(h("div", { class: "field-error" }, error.msg));
      } else general.push(error.msg);
    }
    const first = root.querySelector(".invalid");
    if (first) first.scrollIntoView({ block: "center" });
    return general;
  }

  function conflictPanel(data, onReload, onOverwrite) {
    const show = (v) => (v === null || v === undefined ? "（空）" : typeof v === "string" ? v : JSON.stringify(v, null, 1));
    return h("div", { class: "card conflict", id: "conflict", role: "alert" },
      h("h2", {}, `保存冲突：${data.latest_author} 已保存第 ${data.latest_version} 版${data.latest_note ? `（${data.latest_note}）` : ""}`),
      h("p", {}, `您是在第 ${data.base_version} 版上修改的。对方的修改如下，您的修改尚未保存：`),
      h("table", { class: "grid diff" }, h("thead", {}, h("tr", {}, h("th", {}, "字段"), h("th", {}, "您打开时"), h("th", {}, "对方保存后"))),
        h("tbody", {}, data.changes.map((c) => h("tr", {}, h("td", {}, c.label),
          h("td", { class: "before" }, c.before_text ?? show(c.before)), h("td", { class: "after" }, c.after_text ?? show(c.after)))))),
      h("div", { class: "row" },
        h("button", { type: "button", onclick: onReload }, "放弃我的修改，载入对方版本"),
        h("button", { type: "button", class: "primary", onclick: onOverwrite }, "确认以我的修改为准再保存")));
  }

  // ---------- the page ----------
  async function editMatter(root, externalId) {
    const isNew = externalId === "new";
    const detail = isNew ? null : await api(`/api/v1/matters/${encodeURIComponent(externalId)}`);
    const matter = structuredClone(isNew ? blankMatter() : (detail.draft ? detail.draft.matter : detail.live) || blankMatter());
    for (const key of ["aliases", "applicant_types", "handle_forms", "materials", "process_steps", "bundle"]) matter[key] ||= [];
    let base = detail ? detail.latest_version : null;
    const note = h("input", { id: "change-note", placeholder: "修改说明（例如：按新规调整材料）", style: "flex:1", maxlength: 500 });
    const errors = h("div", { id: "form-errors", class: "error", role: "alert" });
    const slot = h("div");
    const reload = () => Studio.route();

    async function save(overrideBase) {
      errors.textContent = "";
      slot.replaceChildren();
      const body = { matter, base_version: overrideBase ?? base, note: note.value.trim() || null };
      try {
        const saved = isNew
          ? await api("/api/v1/matters", { method: "POST", body })
          : await api(`/api/v1/matters/${encodeURIComponent(externalId)}`, { method: "PUT", body });
        showFieldErrors(root, []);
        return saved;
      } catch (error) {
        if (error.status === 422) {
          const general = showFieldErrors(root, error.data.detail);
          errors.textContent = general.length ? general.join("；") : "请先改正标红的字段";
        } else if (error.status === 409 && error.data.changes) {
          slot.replaceChildren(conflictPanel(error.data, reload, async () => {
            const saved = await save(error.data.latest_version);
            if (saved) { toast(`已保存为第 ${saved.version} 版草稿`); reload(); }
          }));
          slot.scrollIntoView({ block: "start" });
        } else if (error.status !== 401) errors.textContent = error.message;
        return null;
      }
    }

    async function publish(version) {
      const done = await act(() => api(`/api/v1/matters/${encodeURIComponent(matter.external_id)}/publish`,
        { method: "POST", body: { version } }));
      if (!done) return;
      toast(`第 ${done.version} 版已发布，市民即刻可见`);
      // A new matter goes on to its own page (with its history), not back to an empty form.
      if (isNew) go(`#/matters/${encodeURIComponent(matter.external_id)}`); else reload();
    }

    const onSave = async () => {
      const saved = await save();
      if (!saved) return;
      toast(`已保存为第 ${saved.version} 版草稿（未发布）`);
      if (isNew) go(`#/matters/${encodeURIComponent(saved.external_id)}`); else reload();
    };
    const onSaveAndPublish = async () => { const saved = await save(); if (saved) await publish(saved.version); };
    const onDelete = async () => {
      if (!confirm(`确定删除事项“${matter.name}”？市民将不再看到它，历史版本会保留。`)) return;
      try {
        await api(`/api/v1/matters/${encodeURIComponent(externalId)}`, { method: "DELETE" });
        toast("事项已删除");
        go("#/matters");
      } catch (error) { if (error.status !== 401) toast(error.message, true); }
    };

    const pills = detail ? [
      detail.published_version ? h("span", { class: "pill published" }, `线上第 ${detail.published_version} 版`) : h("span", { class: "pill draft" }, "从未发布"),
      detail.draft ? h("span", { class: "pill draft", id: "draft-pill" }, `草稿第 ${detail.draft.version} 版（未发布）`) : null,
      detail.status === "deleted" ? h("span", { class: "pill deleted" }, "已删除") : null,
    ] : [h("span", { class: "pill new" }, "新事项")];

    root.replaceChildren(
      h("div", { class: "row" }, h("a", { href: "#/matters" }, "← 返回事项列表")),
      h("h1", {}, isNew ? "新建事项" : matter.name, " ", pills),
      slot,
      form(matter, isNew),
      h("div", { class: "card" },
        h("div", { class: "row" }, note),
        errors,
        h("div", { class: "row" },
          h("button", { type: "button", id: "save", onclick: onSave }, "保存草稿"),
          h("button", { type: "button", id: "save-publish", class: "primary", onclick: onSaveAndPublish }, "保存并发布"),
          detail && detail.draft ? h("button", { type: "button", id: "publish-draft", onclick: () => publish(detail.draft.version) },
            `发布草稿第 ${detail.draft.version} 版`) : null,
          h("span", { class: "spacer" }),
          detail && detail.status !== "deleted" ? h("button", { type: "button", class: "link", onclick: onDelete }, "删除事项") : null)),
      ...(detail ? [Studio.matterHistory(detail, reload)] : []), // replaceChildren would print a null
    );
  }

  Studio.editMatter = editMatter;
})();
