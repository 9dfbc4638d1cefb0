// 审计日志 (admins only): who changed what in the catalogue and when, newest first, filterable.
"use strict";

(() => {
  const { h, api, query, view, localTime } = Studio;
  const PAGE = 100;

  function details(entry) {
    const d = entry.details || {};
    const parts = [];
    if (d.to) parts.push(`回滚到第 ${d.to} 版内容`);
    if (d.version) parts.push(`生成第 ${d.version} 版`);
    if (d.previous) parts.push(`原线上第 ${d.previous} 版`);
    if (d.published) parts.push("并发布");
    if (d.note) parts.push(`说明：${d.note}`);
    if (d.conflicts && d.conflicts.length) parts.push(`冲突未导入 ${d.conflicts.length} 行`);
    if (d.created) parts.push(`新增 ${d.created.length}，修改 ${(d.updated || []).length}，${d.publish ? "已发布" : "存为草稿"}`);
    const known = new Set(["to", "version", "previous", "published", "note", "created", "updated", "publish", "unchanged", "errors", "file", "base_version", "conflicts"]);
    for (const [k, v] of Object.entries(d)) if (!known.has(k) && v !== null && v !== undefined) parts.push(`${k}：${typeof v === "string" ? v : JSON.stringify(v)}`);
    return parts.join("；");
  }

  view("audit", async (root) => {
    const actions = await api("/api/v1/audit/actions"); // the filter's choices, labelled by the server
    const filters = { actor: "", target: "", action: "", offset: 0 };
    const body = h("div");
    const load = async () => {
      const rows = await api(`/api/v1/audit${query({ ...filters, limit: PAGE })}`);
      body.replaceChildren(
        h("table", { class: "grid", id: "audit-table" },
          h("thead", {}, h("tr", {}, ["时间", "操作人", "操作", "对象", "详情"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows.map((e) => h("tr", {},
            h("td", {}, localTime(e.at)), h("td", {}, e.actor), h("td", {}, e.action_label),
            h("td", {}, /^[\w.-]+$/.test(e.target) ? h("a", { href: `#/matters/${encodeURIComponent(e.target)}` }, e.target) : e.target),
            h("td", {}, details(e)))))),
        rows.length === 0 ? h("p", { class: "muted" }, "没有记录") : null,
        h("div", { class: "row" },
          h("button", { type: "button", disabled: filters.offset === 0, onclick: () => { filters.offset = Math.max(0, filters.offset - PAGE); Studio.act(load); } }, "较新"),
          h("button", { type: "button", disabled: rows.length < PAGE, onclick: () => { filters.offset += PAGE; Studio.act(load); } }, "较早")));
    };
    const input = (key, placeholder) => h("input", { placeholder, "aria-label": placeholder,
      onchange: (e) => { filters[key] = e.target.value.trim(); filters.offset = 0; Studio.act(load); } });
    root.replaceChildren(h("h1", {}, "审计日志"),
      h("div", { class: "filters" }, input("actor", "操作人"), input("target", "对象（事项编号、文件名）"),
        h("select", { "aria-label": "操作", onchange: (e) => { filters.action = e.target.value; filters.offset = 0; Studio.act(load); } },
          h("option", { value: "" }, "全部操作"), Object.entries(actions).map(([v, t]) => h("option", { value: v }, t)))),
      body);
    await load();
  });
})();
