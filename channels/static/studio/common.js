// The studio's shared parts: DOM building, the API client, sign-in and the hash router.
// Plain JS, no build step and no external assets: it must run on an offline intranet.
// Each section is a file that calls Studio.view(name, render); render(params) fills #view.
"use strict";

const Studio = (() => {
  const $ = (id) => document.getElementById(id);
  const views = {};
  const state = { me: null };

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "value") el.value = value;
      else if (key === "checked") el.checked = Boolean(value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  function parseTime(text) { // the server sends naive UTC
    if (!text) return null;
    return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : text + "Z");
  }
  function localTime(text) {
    const t = parseTime(text);
    return t ? new Date(t).toLocaleString("zh-CN", { hour12: false }) : "";
  }

  let toastTimer = null;
  function toast(text, bad = false) {
    const el = $("toast");
    el.textContent = text;
    el.className = bad ? "toast bad" : "toast";
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  class ApiError extends Error {
    constructor(status, detail, data) { super(detail); this.status = status; this.data = data; }
  }

  function message(data) {
    if (typeof data.detail === "string") return data.detail;
    if (Array.isArray(data.detail)) return data.detail.map((e) => e.msg).join("；");
    return "操作失败，请稍后再试";
  }

  // body: a JSON value, or a FormData for uploads. A non-2xx answer throws ApiError with the server's
  // Chinese message and its whole body in .data (field errors, a conflict's other version).
  async function api(path, { method = "GET", body } = {}) {
    const form = body instanceof FormData;
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: body === undefined || form ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    if (response.status === 401 && !path.endsWith("/auth/login")) {
      showLogin();
      throw new ApiError(401, "登录已过期，请重新登录", {});
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, message(data), data);
    return data;
  }

  async function act(work) { // runs a button's request and shows the server's Chinese message on failure
    try { return await work(); } catch (error) { if (error.status !== 401) toast(error.message, true); return null; }
  }

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
    const root = $("view");
    root.replaceChildren(h("p", { class: "muted" }, "加载中…"));
    try {
      await render(root, ...args);
    } catch (error) {
      if (error.status !== 401) root.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  // ---------- sign-in ----------
  function showLogin() {
    state.me = null;
    $("studio-view").hidden = true;
    $("login-view").hidden = false;
    $("username").focus();
  }

  function showStudio(me) {
    state.me = me;
    $("who").textContent = `${me.display_name}（${me.role_label}）`;
    for (const a of document.querySelectorAll("#nav a[data-role]")) a.hidden = me.role !== a.dataset.role;
    $("login-view").hidden = true;
    $("studio-view").hidden = false;
    route();
  }

  function start() {
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("login-error").textContent = "";
      try {
        const result = await api("/api/v1/auth/login", {
          method: "POST", body: { username: $("username").value.trim(), password: $("password").value },
        });
        $("password").value = "";
        if (!["editor", "admin"].includes(result.user.role)) {
          $("login-error").textContent = "该账号不是编辑，无法使用编辑工作台";
          await api("/api/v1/auth/logout", { method: "POST" });
          return;
        }
        showStudio(result.user);
      } catch (error) {
        $("login-error").textContent = error.message;
      }
    });
    $("logout").addEventListener("click", async () => {
      await act(() => api("/api/v1/auth/logout", { method: "POST" }));
      showLogin();
    });
    window.addEventListener("hashchange", route);
    api("/api/v1/auth/me")
      .then((me) => (["editor", "admin"].includes(me.role) ? showStudio(me) : showLogin()))
      .catch(() => showLogin());
  }

  return { $, h, api, act, toast, query, localTime, parseTime, view, go, route, start, state, ApiError };
})();
