// The studio's frame: its sections and the hash router, on top of the staff pages' shared staff.js.
// Each section is a file that calls Studio.view(name, render); render(root, ...args) fills #view.
"use strict";

const Studio = (() => {
  const { $, h, api, act, toast, localTime, parseTime, ApiError } = Staff;
  const views = {};
  const state = { me: null };

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const text = q.toString();
    return text ? `?${text}` : "";
  }

  // ---------- routing: #/name/arg ----------
  function view(name, render) { views[name] = render; }
  function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

  async function route() {
    if (!state.me) return;
    const [name = "matters", ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const render = views[name] || views.matters;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
    // Each visit renders into a box of its own: a slow section the editor already left (its data still
    // loading) then fills a detached box, instead of painting over the section they went to.
    const root = h("div", { class: "view-body" }, h("p", { class: "muted" }, "加载中…"));
    $("view").replaceChildren(root);
    try {
      await render(root, ...args);
    } catch (error) {
      if (error.status !== 401) root.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  // ---------- sign-in ----------
  function start() {
    window.addEventListener("hashchange", route);
    Staff.signIn({
      roles: ["editor", "admin"],
      refusal: "该账号不是编辑，无法使用编辑工作台",
      signedIn: (me) => {
        state.me = me;
        for (const a of document.querySelectorAll("#nav a[data-role]")) a.hidden = me.role !== a.dataset.role;
        $("studio-view").hidden = false;
        route();
      },
      signedOut: () => { state.me = null; $("studio-view").hidden = true; },
    });
  }

  return { $, h, api, act, toast, query, localTime, parseTime, view, go, route, start, state, ApiError };
})();
