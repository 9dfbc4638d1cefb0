// What the staff pages (the agent console and the studio) share: building DOM, the API client with the
// server's Chinese messages, the toast, times shown in local time, and signing in with a role.
// Plain JS, no build step and no external assets: it must run on an offline intranet.
"use strict";

const Staff = (() => {
  const $ = (id) => document.getElementById(id);
  let onUnauthorized = () => {};

  const CONTROLS = new Set(["button", "a", "input", "select", "textarea", "option", "label", "summary"]);

  // A clickable list item or table row is reached with Tab and opened with Enter or Space, as a button is.
  function keyboardOperable(el) {
    if (!el.hasAttribute("tabindex")) el.tabIndex = 0;
    el.addEventListener("keydown", (e) => {
      if (e.target !== el || (e.key !== "Enter" && e.key !== " ")) return;
      e.preventDefault();
      el.click();
    });
  }

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
    if (attrs.onclick && !CONTROLS.has(tag)) keyboardOperable(el);
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
  // Chinese message and its whole body in .data (field errors, a conflict's other version); a 401
  // shows the sign-in form again.
  async function api(path, { method = "GET", body } = {}) {
    const form = body instanceof FormData;
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: body === undefined || form ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    if (response.status === 401 && !path.endsWith("/auth/login")) {
      onUnauthorized();
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

  // Wires #login-form, #logout and the first /auth/me of a page whose staff hold one of ``roles``.
  // ``signedIn(me)`` shows the page; ``signedOut()`` hides it (the form is shown here).
  function signIn({ roles, refusal, signedIn, signedOut }) {
    const showForm = () => {
      signedOut();
      $("login-view").hidden = false;
      $("username").focus();
    };
    const enter = (me) => {
      $("who").textContent = `${me.display_name}（${me.role_label}）`;
      $("login-view").hidden = true;
      return signedIn(me);
    };
    onUnauthorized = showForm;
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("login-error").textContent = "";
      try {
        const result = await api("/api/v1/auth/login", {
          method: "POST", body: { username: $("username").value.trim(), password: $("password").value },
        });
        $("password").value = "";
        if (!roles.includes(result.user.role)) {
          $("login-error").textContent = refusal;
          await api("/api/v1/auth/logout", { method: "POST" });
          return;
        }
        await enter(result.user);
      } catch (error) {
        $("login-error").textContent = error.message;
      }
    });
    $("logout").addEventListener("click", async () => {
      await act(() => api("/api/v1/auth/logout", { method: "POST" }));
      showForm();
    });
    api("/api/v1/auth/me")
      .then((me) => (roles.includes(me.role) ? enter(me) : showForm()))
      .catch(() => showForm());
  }

  return { $, h, parseTime, localTime, toast, ApiError, api, act, signIn };
})();
