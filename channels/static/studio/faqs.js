// 常见问题: FAQ entries (a citizen's question → the answer, citing a matter). List filtered by matter and
// status, create, edit and delete with each field's Chinese error under it. #/faqs/matter/<id> opens the
// list filtered to one matter. Also defines two helpers the unanswered page shares: Studio.matterPicker
// (find a matter by GET /api/v1/matters?q=) and Studio.fieldErrors (a 422's errors by field).
"use strict";

(() => {
  const { h, api, act, query, view, localTime } = Studio;
  const STATUS = { published: "已发布", draft: "草稿" };
  const filters = { matter: "", matterName: "", status: "" };

  // A 422's errors by field (the last name in each loc), with the server's Chinese message stripped of
  // the field's raw name ("answer不能为空" → "不能为空"); anything else (409, unknown) goes to `rest`.
  function fieldErrors(error) {
    const fields = {};
    const rest = [];
    const details = Array.isArray(error?.data?.detail) ? error.data.detail : [];
    for (const d of details) {
      const names = (d.loc || []).filter((p) => typeof p === "string" && !["body", "query", "path"].includes(p));
      const field = names[names.length - 1];
      const msg = String(d.msg || "").split("、").pop().replace(/^[A-Za-z0-9_.]+/, "") || "内容不正确";
      if (field) fields[field] = fields[field] ? `${fields[field]}；${msg}` : msg;
      else rest.push(msg);
    }
    if (!details.length && error?.message) rest.push(error.message);
    return { fields, rest };
  }

  // A labelled field: the control, and its error line below. Returns the wrapper; .setError(msg).
  function field(name, label, control, hint) {
    const error = h("div", { class: "field-error", "data-error-for": name });
    const wrap = h("div", { "data-field": name }, control, hint ? h("div", { class: "muted hint" }, hint) : null, error);
    wrap.setError = (msg) => {
      error.textContent = msg || "";
      const input = control.matches?.("input, select, textarea") ? control : control.querySelector?.("input, select, textarea");
      if (input) input.classList.toggle("invalid", Boolean(msg));
    };
    return [h("label", {}, label), wrap];
  }

  // Picks a matter by searching the catalogue; `onpick(matter)` after a choice.
  function matterPicker({ value = "", name = "", placeholder = "输入事项名称、别名或编号搜索", onpick } = {}) {
    let chosen = value ? { external_id: value, name } : null;
    let seq = 0;
    let timer = null;
    const picked = h("div", { class: "picked" });
    const search = h("input", { type: "search", class: "matter-search", placeholder, "aria-label": "搜索事项", autocomplete: "off" });
    const results = h("ul", { class: "matter-results" });
    const el = h("div", { class: "matter-picker" }, picked, search, results);

    function render() {
      picked.replaceChildren(chosen
        ? h("span", { class: "chosen", "data-id": chosen.external_id }, "已选：", h("strong", {}, chosen.name || chosen.external_id),
          h("span", { class: "mono muted" }, ` ${chosen.external_id}`),
          chosen.status && chosen.status !== "published" ? h("span", { class: "pill draft" }, "未发布") : null,
          chosen.has_draft && chosen.status === "published" ? h("span", { class: "pill draft" }, "有草稿") : null)
        : h("span", { class: "muted" }, "尚未选择事项"));
    }
    async function find() {
      const q = search.value.trim();
      const mine = ++seq;
      if (!q) { results.replaceChildren(); return; }
      const data = await act(() => api(`/api/v1/matters${query({ q, size: 8 })}`));
      if (mine !== seq || !data) return;
      const items = data.items.filter((m) => m.status !== "deleted");
      results.replaceChildren(...(items.length ? items.map((m) => h("li", {},
        h("button", { type: "button", class: "link pick", "data-id": m.external_id, onclick: () => pick(m) }, m.name),
        h("span", { class: "mono muted" }, ` ${m.external_id}`),
        h("span", { class: "muted" }, ` · ${m.department}${m.region ? ` · ${m.region}` : ""}`),
        m.status !== "published" ? h("span", { class: "pill draft" }, "未发布") : null))
        : [h("li", { class: "muted" }, "没有找到匹配的事项")]));
    }
    function pick(m) {
      chosen = m;
      search.value = "";
      results.replaceChildren();
      render();
      if (onpick) onpick(m);
    }
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
    search.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); find(); } });
    render();
    return {
      el, search,
      get value() { return chosen ? chosen.external_id : ""; },
      get matter() { return chosen; },
      clear() { chosen = null; render(); },
    };
  }

  Studio.fieldErrors = fieldErrors;
  Studio.formField = field;
  Studio.matterPicker = matterPicker;

  // ---------- the FAQ form (new or edit) ----------

  function faqForm(item, done, cancel) {
    const question = h("input", { name: "question", value: item?.question || "", maxlength: 300, placeholder: "市民的问法" });
    const answer = h("textarea", { name: "answer", rows: 4, maxlength: 5000, placeholder: "答复内容" });
    answer.value = item?.answer || "";
    const matter = matterPicker({ value: item?.matter_external_id || filters.matter, name: item?.matter_name || filters.matterName });
    const status = h("select", { name: "status" },
      Object.entries(STATUS).map(([value, text]) => h("option", { value, selected: (item?.status || "published") === value }, text)));
    const rows = {
      question: field("question", "问题", question, "按市民的说法写，检索会把它算作事项的一部分"),
      answer: field("answer", "答复", answer),
      matter_external_id: field("matter_external_id", "关联事项", matter.el),
      status: field("status", "状态", status, "草稿不参与检索"),
    };
    const formError = h("p", { class: "error" });
    const save = h("button", { type: "submit", class: "primary" }, item ? "保存修改" : "新建");
    const form = h("form", { class: "card faq-form", id: "faq-form", "data-id": item?.id || "", onsubmit: async (event) => {
      event.preventDefault();
      for (const [, wrap] of Object.values(rows)) wrap.setError("");
      formError.textContent = "";
      const missing = {};
      if (question.value.trim().length < 2) missing.question = "至少需要 2 个字符";
      if (!answer.value.trim()) missing.answer = "不能为空";
      if (!matter.value) missing.matter_external_id = "请搜索并选择关联事项";
      if (Object.keys(missing).length) {
        for (const [name, msg] of Object.entries(missing)) rows[name][1].setError(msg);
        return;
      }
      const body = { question: question.value.trim(), answer: answer.value.trim(), matter_external_id: matter.value, status: status.value };
      save.disabled = true;
      try {
        const saved = await api(item ? `/api/v1/faqs/${item.id}` : "/api/v1/faqs", { method: item ? "PUT" : "POST", body });
        done(saved, Boolean(item));
      } catch (e) {
        const { fields, rest } = fieldErrors(e);
        for (const [name, msg] of Object.entries(fields)) {
          if (rows[name]) rows[name][1].setError(msg); else rest.push(msg);
        }
        formError.textContent = rest.join("；");
      } finally {
        save.disabled = false;
      }
    } },
    h("h2", {}, item ? `修改常见问题 #${item.id}` : "新建常见问题"),
    h("div", { class: "form-grid" }, ...Object.values(rows).flat()),
    formError,
    h("div", { class: "row" }, save, h("button", { type: "button", onclick: cancel }, "取消")));
    return form;
  }

  // ---------- the list ----------

  view("faqs", async (root, mode, arg) => {
    if (mode === "matter" && arg && filters.matter !== arg) { filters.matter = arg; filters.matterName = ""; }
    const formBox = h("div");
    const list = h("div", { id: "faq-list" });
    const note = h("p", { class: "muted", id: "faq-note" });

    const filterPicker = matterPicker({ value: filters.matter, name: filters.matterName, placeholder: "按事项筛选：输入名称或编号",
      onpick: (m) => { filters.matter = m.external_id; filters.matterName = m.name; act(reload); } });
    const statusSelect = h("select", { "aria-label": "状态", onchange: (e) => { filters.status = e.target.value; act(reload); } },
      [["", "全部状态"], ["published", "已发布"], ["draft", "草稿"]].map(([v, t]) => h("option", { value: v, selected: filters.status === v }, t)));

    const openForm = (item) => {
      formBox.replaceChildren(faqForm(item, (saved, edited) => {
        formBox.replaceChildren();
        Studio.toast(edited ? "已保存修改" : "已新建常见问题");
        note.textContent = saved.status === "published"
          ? `“${saved.question}”已${edited ? "更新" : "发布"}：市民这样问时会找到“${saved.matter_name || saved.matter_external_id}”。`
          : `“${saved.question}”已存为草稿，不参与检索。`;
        act(reload);
      }, () => formBox.replaceChildren()));
      formBox.querySelector("input[name=question]").focus();
    };

    async function remove(button, item) {
      if (button.dataset.confirm !== "1") {
        button.dataset.confirm = "1";
        button.textContent = "确认删除？";
        setTimeout(() => { if (button.isConnected) { button.dataset.confirm = ""; button.textContent = "删除"; } }, 4000);
        return;
      }
      const ok = await act(() => api(`/api/v1/faqs/${item.id}`, { method: "DELETE" }).then(() => true));
      if (ok) { Studio.toast("已删除"); note.textContent = `已删除“${item.question}”。`; await reload(); }
    }

    async function reload() {
      const items = await api(`/api/v1/faqs${query({ matter: filters.matter, status: filters.status })}`);
      list.replaceChildren(
        h("p", { class: "muted" }, filters.matter ? `“${filters.matterName || filters.matter}”的常见问题 ${items.length} 条` : `共 ${items.length} 条`),
        items.length
          ? h("table", { class: "grid", id: "faq-table" },
            h("thead", {}, h("tr", {}, ["问题", "答复", "关联事项", "状态", "最后修改", ""].map((t) => h("th", {}, t)))),
            h("tbody", {}, items.map((item) => h("tr", { "data-id": item.id },
              h("td", {}, item.question),
              h("td", { class: "clip", title: item.answer }, item.answer),
              h("td", {}, h("a", { href: `#/matters/${encodeURIComponent(item.matter_external_id)}` }, item.matter_name || item.matter_external_id),
                h("div", { class: "mono muted" }, item.matter_external_id)),
              h("td", {}, h("span", { class: `pill ${item.status}` }, STATUS[item.status] || item.status)),
              h("td", { class: "muted" }, `${item.author} · ${localTime(item.updated_at)}`),
              h("td", { class: "actions" },
                h("button", { type: "button", class: "link", "data-action": "edit", onclick: () => openForm(item) }, "编辑"),
                h("button", { type: "button", class: "link danger", "data-action": "delete", onclick: (e) => remove(e.target, item) }, "删除"))))))
          : h("p", { class: "muted" }, "没有常见问题"));
    }

    root.replaceChildren(
      h("h1", {}, "常见问题"),
      h("p", { class: "muted" }, "常见问题按市民的问法写，答复引用一个事项；已发布的常见问题会作为该事项的一部分被检索到。"),
      h("div", { class: "filters" }, filterPicker.el, statusSelect,
        h("button", { type: "button", onclick: () => { filters.matter = filters.matterName = ""; filterPicker.clear(); act(reload); } }, "清除事项筛选"),
        h("span", { class: "spacer" }),
        h("button", { type: "button", class: "primary", id: "faq-new", onclick: () => openForm(null) }, "新建常见问题")),
      note, formBox, list);
    await reload();
  });
})();
