// 审计日志 (admins only): who changed what in the catalogue and when, newest first, filterable. The details
// come worded by the server (summary), so the page never prints a field name, null or JSON.
"use strict";

(() => {
  const { h, api, query, view, localTime } = Studio;
  const PAGE = 100;

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
            h("td", {}, e.summary))))),
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
