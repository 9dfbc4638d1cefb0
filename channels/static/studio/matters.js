// 事项管理: the catalogue as a searchable, filterable, paged table; a row opens the matter's editor.
"use strict";

(() => {
  const { h, api, query, view, go } = Studio;
  const STATUS = { published: "已发布", draft: "未发布", deleted: "已删除" };
  const PAGE_SIZE = 50;
  const filters = { q: "", department: "", region: "", type: "", status: "", has_draft: "", page: 1 };

  function statusPill(item) {
    if (item.status === "deleted") return h("span", { class: "pill deleted" }, STATUS.deleted);
    const live = item.published_version
      ? h("span", { class: "pill published" }, `已发布 v${item.published_version}`)
      : h("span", { class: "pill draft" }, "未发布");
    return [live, item.has_draft && item.published_version ? h("span", { class: "pill draft" }, `草稿 v${item.version}`) : null];
  }

  function filterBar(reload) {
    let typing = null; // the list follows the search box as the editor types, a moment after the last key
    const input = (key, placeholder, width) => h("input", {
      value: filters[key], placeholder, "aria-label": placeholder, style: `width:${width}px`, "data-filter": key,
      oninput: (e) => {
        clearTimeout(typing);
        typing = setTimeout(() => { filters[key] = e.target.value.trim(); filters.page = 1; reload(); }, 300);
      },
    });
    const select = (key, label, options) => h("select", {
      "aria-label": label, "data-filter": key,
      onchange: (e) => { filters[key] = e.target.value; filters.page = 1; reload(); },
    }, options.map(([value, text]) => h("option", { value, selected: filters[key] === value }, text)));
    return h("div", { class: "filters" },
      input("q", "搜索事项名称、别名或编号", 260),
      input("department", "实施部门", 160),
      input("region", "地区", 120),
      input("type", "事项类型", 120),
      select("status", "状态", [["", "全部状态"], ["published", "已发布"], ["draft", "从未发布"], ["deleted", "已删除"]]),
      select("has_draft", "草稿", [["", "草稿不限"], ["true", "有未发布修改"], ["false", "无未发布修改"]]),
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "primary", onclick: () => go("#/matters/new") }, "新建事项"));
  }

  view("matters", async (root, externalId) => {
    if (externalId) return Studio.editMatter(root, externalId);
    const table = h("div");
    const reload = async () => {
      const params = { ...filters, size: PAGE_SIZE };
      const data = await api(`/api/v1/matters${query(params)}`);
      const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
      table.replaceChildren(
        h("p", { class: "muted", id: "matter-total" }, `共 ${data.total} 个事项`),
        h("table", { class: "grid", id: "matter-table" },
          h("thead", {}, h("tr", {}, ["事项名称", "编号", "实施部门", "地区", "类型", "状态"].map((t) => h("th", {}, t)))),
          h("tbody", {}, data.items.map((item) => h("tr", {
            class: "clickable", "data-id": item.external_id,
            onclick: () => go(`#/matters/${encodeURIComponent(item.external_id)}`),
          },
          h("td", {}, item.name), h("td", { class: "mono" }, item.external_id), h("td", {}, item.department),
          h("td", {}, item.region), h("td", {}, item.type || ""), h("td", {}, statusPill(item)))))),
        h("div", { class: "row" },
          h("button", { type: "button", disabled: filters.page <= 1, onclick: () => { filters.page -= 1; reload(); } }, "上一页"),
          h("span", {}, `第 ${filters.page} / ${pages} 页`),
          h("button", { type: "button", disabled: filters.page >= pages, onclick: () => { filters.page += 1; reload(); } }, "下一页")),
      );
    };
    root.replaceChildren(h("h1", {}, "事项管理"), filterBar(() => Studio.act(reload)), table);
    await reload();
  });

  Studio.matterFilters = filters; // the export on 导入导出 offers "export what the list shows"
})();
