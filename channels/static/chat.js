/* The citizen chat page: one conversation kept in localStorage, replies from the POST, later messages
   (an agent's reply, mode changes) from the live stream. Every message is drawn with textContent:
   nothing a citizen, the bot or an agent typed is ever parsed as HTML. */
(function () {
  "use strict";

  const API = "/api/v1/conversations";
  const params = new URLSearchParams(location.search);
  const channel = ["web", "widget", "app"].includes(params.get("channel")) ? params.get("channel") : "web";
  const embedded = params.get("embed") === "1";
  const STORE_KEY = "banshi.conversation." + channel;
  const MODE_LABELS = {
    bot: "智能助手在线",
    waiting: "正在为您转接人工客服…",
    agent: "人工客服服务中",
    closed: "会话已结束",
    offline: "连接中断，正在重连…",
  };
  const STAR_LABELS = ["", "非常不满意", "不满意", "一般", "满意", "非常满意"];
  const SUGGESTIONS = ["办身份证要带什么", "公积金怎么提取", "我要投诉", "查询工单进度"];

  const log = document.getElementById("log");
  const input = document.getElementById("input");
  const form = document.getElementById("composer");
  const sendBtn = document.getElementById("send-btn");
  const statusEl = document.getElementById("status");
  const restart = document.getElementById("restart");

  const state = { id: null, lastId: 0, seen: new Set(), mode: "bot", rated: false, ratingShown: false, source: null, busy: false };

  const { el, link, renderChecklist, renderTicket } = ChatCards;
  // A cross-site iframe (the widget on another site) may be denied storage: then the page works unremembered.
  const store = {
    get(key) { try { return localStorage.getItem(key); } catch (e) { return null; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* not remembered */ } },
  };

  function timeOf(iso) {
    const d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
  }
  function scrollDown() {
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
  }

  function row(sender, author) {
    const r = el("div", "row " + sender);
    if (sender === "bot" || sender === "agent") {
      r.appendChild(el("div", "avatar", sender === "bot" ? "办" : "客服"));
    }
    const stack = el("div", "stack");
    if (sender === "agent") stack.appendChild(el("div", "author", "人工客服" + (author ? " · " + author : "")));
    r.appendChild(stack);
    log.appendChild(r);
    return stack;
  }

  // ---------- message kinds ----------
  function renderText(stack, m) {
    const bubble = el("div", "bubble", m.text || "");
    if (m.sender === "system") bubble.classList.add("notice"); // the gateway's own words: the desk, an outage
    stack.appendChild(bubble);
    return bubble;
  }

  function renderButtons(stack, m) {
    if (m.text) renderText(stack, m);
    const box = el("div", "choices");
    box.dataset.messageId = m.id;
    (m.buttons || []).forEach((b) => {
      const btn = el("button", "choice", b.title);
      btn.type = "button";
      btn.addEventListener("click", () => {
        if (btn.disabled || state.busy) return;
        box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
        btn.classList.add("chosen");
        send(b.title, b.payload);
      });
      box.appendChild(btn);
    });
    stack.appendChild(box);
  }

  function renderRating(stack, m) {
    const score = (m.rating && m.rating.score) || 0;
    const bubble = el("div", "bubble");
    bubble.appendChild(document.createTextNode("我的评价："));
    bubble.appendChild(el("span", "rated", "★".repeat(score) + "☆".repeat(5 - score)));
    bubble.appendChild(document.createTextNode(" " + (STAR_LABELS[score] || "")));
    if (m.rating && m.rating.comment) bubble.appendChild(document.createTextNode("\n" + m.rating.comment));
    stack.appendChild(bubble);
  }

  function render(m) {
    if (state.seen.has(m.id)) return;
    state.seen.add(m.id);
    state.lastId = Math.max(state.lastId, m.id);
    removeTyping();
    if (m.kind === "handoff" && !m.text) return; // the gateway's own notice says it in words
    if (m.sender === "citizen") disableOldChoices();
    const stack = row(m.sender, m.author);
    stack.parentNode.dataset.kind = m.kind;
    stack.parentNode.dataset.id = m.id;
    if (m.kind === "buttons") renderButtons(stack, m);
    else if (m.kind === "checklist") renderChecklist(stack, m);
    else if (m.kind === "ticket") renderTicket(stack, m, rateTicket);
    else if (m.kind === "rating") { renderRating(stack, m); state.rated = true; }
    else renderText(stack, m);
    if (m.sender !== "system") stack.appendChild(el("div", "time", timeOf(m.created_at)));
    if ((m.kind === "checklist" || m.kind === "ticket") && !state.rated) setTimeout(showRating, 0);
    document.dispatchEvent(new CustomEvent("banshi:message", { detail: { node: stack, message: m } }));
    scrollDown();
  }

  // After a reply the keyboard goes on where the conversation does: the new choices, else the input box.
  function focusNextControl() {
    const rows = log.querySelectorAll(".row.bot, .row.system, .row.agent");
    const last = rows[rows.length - 1];
    const choice = last && last.querySelector(".choices button:not(:disabled)");
    const target = choice || (form.hidden ? document.getElementById("restart-btn") : input);
    if (target) target.focus();
  }

  function disableOldChoices() {
    log.querySelectorAll(".choices button:not(:disabled)").forEach((b) => { b.disabled = true; });
  }

  // ---------- typing indicator ----------
  function showTyping() {
    removeTyping();
    const r = el("div", "row bot typing");
    r.appendChild(el("div", "avatar", "办"));
    const bubble = el("div", "bubble");
    bubble.setAttribute("aria-label", "正在输入");
    for (let i = 0; i < 3; i++) bubble.appendChild(el("i"));
    r.appendChild(bubble);
    log.appendChild(r);
    scrollDown();
  }
  function removeTyping() {
    log.querySelectorAll(".typing").forEach((n) => n.remove());
  }

  function notice(text) {
    const stack = row("system");
    stack.appendChild(el("div", "bubble notice", text));
    scrollDown();
  }

  // ---------- rating (好差评) ----------
  function showRating() {
    if (state.ratingShown || state.rated || !state.id) return;
    state.ratingShown = true;
    const stack = row("bot");
    const card = el("section", "card rating-card");
    const head = el("div", "card-head");
    head.appendChild(el("div", "card-kicker", "好差评"));
    head.appendChild(el("h3", "card-title", "请为本次服务评价"));
    card.appendChild(head);
    const body = el("div", "card-body");
    const stars = el("div", "stars");
    stars.setAttribute("role", "radiogroup");
    stars.setAttribute("aria-label", "评分");
    const label = el("div", "star-label", "点击星星打分（1–5 分）");
    const comment = el("textarea");
    comment.placeholder = "您的意见或建议（选填）";
    comment.setAttribute("aria-label", "您的意见或建议（选填）");
    comment.maxLength = 500;
    const submit = el("button", "primary", "提交评价");
    submit.type = "button";
    submit.disabled = true;
    let score = 0;
    for (let i = 1; i <= 5; i++) {
      const star = el("button", "star", "★");
      star.type = "button";
      star.dataset.score = i;
      star.setAttribute("role", "radio");
      star.setAttribute("aria-checked", "false");
      star.tabIndex = i === 1 ? 0 : -1; // one tab stop for the group; arrows move within it
      star.setAttribute("aria-label", i + " 分 " + STAR_LABELS[i]);
      star.addEventListener("keydown", (e) => {
        const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[e.key];
        if (!step) return;
        e.preventDefault();
        const next = stars.querySelector(`.star[data-score='${Math.min(5, Math.max(1, i + step))}']`);
        next.click();
        next.focus();
      });
      star.addEventListener("click", () => {
        score = i;
        stars.querySelectorAll(".star").forEach((s) => {
          s.classList.toggle("on", Number(s.dataset.score) <= i);
          s.setAttribute("aria-checked", String(Number(s.dataset.score) === i));
          s.tabIndex = Number(s.dataset.score) === i ? 0 : -1;
        });
        label.textContent = i + " 分 · " + STAR_LABELS[i];
        submit.disabled = false;
      });
      stars.appendChild(star);
    }
    submit.addEventListener("click", async () => {
      submit.disabled = true;
      try {
        await api("POST", "/" + state.id + "/rating", { score: score, comment: comment.value.trim() || null });
        state.rated = true;
        body.replaceChildren(el("div", null, "感谢您的评价！您的意见会帮助我们改进服务。"));
        catchUp();
      } catch (e) {
        label.textContent = e.message;
        submit.disabled = false;
      }
    });
    body.append(stars, label, comment, submit);
    card.appendChild(body);
    stack.appendChild(card);
    scrollDown();
  }

  // The 回访 满意度 of a ticket shown in this conversation (the ticket card's stars).
  async function rateTicket(number, score) {
    const card = await api("POST", "/" + state.id + "/ticket-rating", { number: number, score: score });
    catchUp();
    return card;
  }

  // ---------- API ----------
  async function api(method, path, body) {
    const res = await fetch(API + path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (!res.ok) {
      const message = (data && (data.message || (typeof data.detail === "string" && data.detail))) || "网络异常，请稍后再试";
      const err = new Error(message);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function setMode(mode) {
    state.mode = mode;
    statusEl.dataset.mode = mode;
    statusEl.textContent = MODE_LABELS[mode] || mode;
    const closed = mode === "closed";
    restart.hidden = !closed;
    form.hidden = closed;
    document.getElementById("human-btn").hidden = mode === "agent" || mode === "waiting" || closed;
    if (closed && !state.rated) showRating();
  }

  async function send(text, payload) {
    if (!state.id || state.busy) return;
    state.busy = true;
    sendBtn.disabled = true;
    if (state.mode === "bot") showTyping();
    try {
      const messages = await api("POST", "/" + state.id + "/messages", payload ? { text: text, payload: payload } : { text: text });
      messages.forEach(render);
    } catch (e) {
      removeTyping();
      if (e.status === 404) { await startNew(); notice("会话已过期，已为您开始新的会话，请重新发送。"); }
      else if (e.status === 409) setMode("closed");
      else {
        // Refused before anything was stored (too busy, too fast): the words go back into the box to send again.
        if ((e.status === 429 || e.status === 503) && !payload && !input.value) input.value = text;
        notice(e.message);
      }
    } finally {
      removeTyping();
      state.busy = false;
      sendBtn.disabled = false;
      focusNextControl();
    }
  }

  async function catchUp() {
    try { (await api("GET", "/" + state.id + "/messages?after=" + state.lastId)).forEach(render); } catch (e) { /* the stream will bring them */ }
  }

  function listen() {
    if (state.source) state.source.close();
    if (!window.EventSource) { setInterval(catchUp, 3000); return; }
    const source = new EventSource(API + "/" + state.id + "/stream?after=" + state.lastId);
    state.source = source;
    source.addEventListener("message", (ev) => { try { render(JSON.parse(ev.data)); } catch (e) { /* ignore a bad event */ } });
    source.addEventListener("mode", (ev) => { try { setMode(JSON.parse(ev.data).mode); } catch (e) { /* ignore */ } });
    source.addEventListener("gone", () => { source.close(); });
    source.addEventListener("error", () => {
      // The browser retries by itself unless the server refused the stream: then catch up and listen again.
      if (source.readyState === EventSource.CLOSED && state.source === source) {
        setTimeout(() => { if (state.source === source) { catchUp().then(listen); } }, 3000);
      }
    });
  }

  function welcome() {
    const stack = row("bot");
    stack.appendChild(el("div", "bubble",
      "您好！我是政务服务智能助手。您可以问我办事要带什么材料、去哪里办、要多久，也可以投诉、举报、建议或求助。"));
    const box = el("div", "choices");
    SUGGESTIONS.forEach((s) => {
      const b = el("button", "choice", s);
      b.type = "button";
      b.addEventListener("click", () => { if (!state.busy) send(s); });
      box.appendChild(b);
    });
    stack.appendChild(box);
  }

  async function startNew() {
    if (state.source) state.source.close();
    log.replaceChildren();
    Object.assign(state, { id: null, lastId: 0, seen: new Set(), rated: false, ratingShown: false });
    const created = await api("POST", "", { channel: channel });
    state.id = created.id;
    store.set(STORE_KEY, created.id);
    welcome();
    setMode(created.mode);
    listen();
  }

  async function resume(id) {
    const found = await api("GET", "/" + id);
    if (found.mode === "closed") return false;
    state.id = id;
    state.rated = found.rating != null;
    welcome();
    (await api("GET", "/" + id + "/messages")).forEach(render);
    setMode(found.mode);
    listen();
    return true;
  }

  // ---------- wiring ----------
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || state.busy) return;
    input.value = "";
    send(text);
  });
  document.getElementById("human-btn").addEventListener("click", async () => {
    if (!state.id) return;
    try {
      const out = await api("POST", "/" + state.id + "/handoff");
      out.messages.forEach(render);
      setMode(out.mode);
    } catch (e) { notice(e.message); }
  });
  document.getElementById("rate-btn").addEventListener("click", () => {
    if (state.rated) { notice("您已评价过本次服务，感谢您的反馈！"); return; }
    state.ratingShown = false;
    log.querySelectorAll(".rating-card").forEach((c) => c.closest(".row").remove());
    showRating();
  });
  document.getElementById("restart-btn").addEventListener("click", () => { startNew().catch((e) => notice(e.message)); });
  if (embedded) {
    const close = document.getElementById("close-btn");
    close.hidden = false;
    close.addEventListener("click", () => window.parent.postMessage({ type: "banshi-chat-close" }, "*"));
  }

  (async function init() {
    const stored = store.get(STORE_KEY);
    try {
      if (!(stored && /^[0-9a-f]{32}$/.test(stored) && (await resume(stored).catch(() => false)))) await startNew();
    } catch (e) {
      setMode("offline");
      notice("暂时无法连接服务，请检查网络后刷新页面。");
    }
    document.body.dataset.ready = "1";
  })();
})();
