// A matter's history: every version with author, time and note; a field-by-field diff between any two, in
// Chinese as the server words it (before_text / after_text: 是/否, lists joined, a material spelled out);
// rollback, which makes a new version equal to an old one (a draft, or published at once).
"use strict";

(() => {
  const { h, api, act, toast, localTime } = Studio;
  const STATE = { published: "线上版本", draft: "草稿", history: "历史" };
  const KIND = { changed: "修改", added: "新增", removed: "删除" };

  const show = (v) => (v === null || v === undefined || v === "" ? "（空）"
    : typeof v === "string" ? v : Array.isArray(v) && v.every((x) => typeof x === "string") ? v.join("、") : JSON.stringify(v, null, 1));

  function matterHistory(detail, reload) {
    const id = encodeURIComponent(detail.external_id);
    const versions = [...detail.versions].sort((a, b) => b.version - a.version);
    const pick = { from: versions[1]?.version ?? versions[0]?.version, to: versions[0]?.version };
    const diffBox = h("div", { id: "diff" });

    async function compare() {
      if (!pick.from || !pick.to || pick.from === pick.to) { diffBox.replaceChildren(h("p", { class: "muted" }, "请选择两个不同的版本")); return; }
      const data = await act(() => api(`/api/v1/matters/${id}/diff?from=${pick.from}&to=${pick.to}`));
      if (!data) return;
      diffBox.replaceChildren(
        h("h2", {}, `第 ${data.from_version} 版 → 第 ${data.to_version} 版`),
        data.changes.length === 0 ? h("p", { class: "muted" }, "两个版本内容相同")
          : h("table", { class: "grid diff", id: "diff-table" },
            h("thead", {}, h("tr", {}, ["字段", "变化", `第 ${data.from_version} 版`, `第 ${data.to_version} 版`].map((t) => h("th", {}, t)))),
            h("tbody", {}, data.changes.map((c) => h("tr", {},
              h("td", {}, c.label), h("td", {}, KIND[c.kind] || c.kind),
              h("td", { class: "before" }, c.before_text ?? show(c.before)), h("td", { class: "after" }, c.after_text ?? show(c.after)))))));
    }

    async function rollback(version, publish) {
      const verb = publish ? "回滚并立即发布" : "回滚为草稿";
      if (!confirm(`${verb}：将以第 ${version} 版的内容生成一个新版本。继续吗？`)) return;
      const saved = await act(() => api(`/api/v1/matters/${id}/rollback`, { method: "POST", body: { version, publish } }));
      if (saved) {
        toast(publish ? `已回滚到第 ${version} 版内容并发布（第 ${saved.version} 版）` : `已生成第 ${saved.version} 版草稿（内容同第 ${version} 版）`);
        reload();
      }
    }

    const radio = (name, version) => h("input", {
      type: "radio", name: `diff-${name}`, checked: pick[name] === version, "aria-label": `${name === "from" ? "旧" : "新"}版本 ${version}`,
      onchange: () => { pick[name] = version; compare(); },
    });

    const table = h("table", { class: "grid", id: "history" },
      h("thead", {}, h("tr", {}, ["旧", "新", "版本", "状态", "作者", "时间", "修改说明", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, versions.map((v) => h("tr", { "data-version": v.version },
        h("td", {}, radio("from", v.version)), h("td", {}, radio("to", v.version)),
        h("td", {}, `第 ${v.version} 版`),
        h("td", {}, h("span", { class: `pill ${v.state}` }, STATE[v.state] || v.state),
          v.published_at && v.state !== "published" ? h("span", { class: "muted" }, " 曾发布") : null),
        h("td", {}, v.author), h("td", {}, localTime(v.created_at)), h("td", {}, v.note || ""),
        h("td", {}, v.state === "published" ? null : [
          h("button", { type: "button", class: "link", onclick: () => rollback(v.version, false) }, "回滚为草稿"),
          h("button", { type: "button", class: "link", "data-action": "rollback-publish", onclick: () => rollback(v.version, true) }, "回滚并发布"),
        ])))));

    const box = h("div", { class: "card", id: "history-card" }, h("h2", {}, "版本历史"), table,
      h("div", { class: "row" }, h("button", { type: "button", id: "compare", onclick: compare }, "比较所选版本")), diffBox);
    if (versions.length > 1) compare();
    return box;
  }

  Studio.matterHistory = matterHistory;
})();
