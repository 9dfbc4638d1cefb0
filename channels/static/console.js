// The agent console. Plain JS, no build step and no external assets: it must run on an offline intranet.
// Every datum comes from /api/v1/agent and /api/v1/tickets with the session cookie; a 401 shows the login form.
// Changes are pushed, not polled, over two server-sent-event streams (EventSource, same-origin cookie):
// /api/v1/agent/events says when the queues changed (the lists are then reloaded at once), and the open
// conversation's /stream brings its new messages and state (claimed, transferred, closed). EventSource
// reconnects by itself and resumes after the last message id; a stream the server refused is opened again
// after a pause, and a slow reload of the queues every 30 s is only a safety net. Countdowns tick each
// second against the server's clock, so a wrong PC clock does not hide an overdue ticket.
"use strict";

const { $, h, parseTime, localTime, toast, api, act } = Staff;
const QUEUE_FALLBACK_MS = 30000;
const REOPEN_MS = 5000;
const SOON_SECONDS = 2 * 3600;
const SENDERS = { citizen: "市民", bot: "智能助手", agent: "坐席", system: "系统" };
const PRIORITY = { urgent: "紧急", normal: "普通" };
const FOLD_CHARS = 160;
const FOLD_LINES = 6;

const state = {
  me: null, clockOffset: 0, selected: null, // {kind: "handoff"|"ticket", id}
  handoff: null, lastMessageId: 0, ticket: null, searching: false, timers: [],
  queueSource: null, chatSource: null, refreshing: null, refreshAgain: false,
};

// ---------- helpers ----------
function serverNow() { return Date.now() + state.clockOffset; }
function syncClock(nowText) { const t = parseTime(nowText); if (t) state.clockOffset = t - Date.now(); }
function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const clock = [hh, mm, ss].map((n) => String(n).padStart(2, "0")).join(":");
  return d ? `${d}天 ${clock}` : clock;
}

function slaText(dueText) {
  const due = parseTime(dueText);
  if (!due) return { text: "无时限", cls: "" };
  const left = (due - serverNow()) / 1000;
  if (left < 0) return { text: `已超时 ${duration(left)}`, cls: "overdue" };
  return { text: `剩余 ${duration(left)}`, cls: left < SOON_SECONDS ? "soon" : "" };
}

// A long message shows its beginning and a 展开 button; the agent unfolds it when they need all of it.
function foldable(text) {
  text = text || "";
  const lines = text.split("\n");
  if (text.length <= FOLD_CHARS && lines.length <= FOLD_LINES) return h("span", { class: "text" }, text);
  const short = `${lines.slice(0, FOLD_LINES).join("\n").slice(0, FOLD_CHARS)}…`;
  const body = h("span", { class: "text folded" }, short);
  const toggle = h("button", { type: "button", class: "fold", "aria-expanded": "false" }, "展开");
  toggle.addEventListener("click", (event) => {
    event.stopPropagation();
    const open = toggle.getAttribute("aria-expanded") !== "true";
    body.textContent = open ? text : short;
    body.classList.toggle("folded", !open);
    toggle.textContent = open ? "收起" : "展开";
    toggle.setAttribute("aria-expanded", String(open));
  });
  return h("span", { class: "foldable" }, body, " ", toggle);
}

// What the dialogue understood, as the server labelled it (诉求内容, 地点, 联系电话 …); internal slots are not sent.
function slotChips(fields) {
  return (fields || []).map((f) => h("span", { "data-slot": f.name }, `${f.label}：${f.value}`));
}

// ---------- sign-in ----------
function hideConsole() {
  state.timers.forEach(clearInterval);
  state.timers = [];
  closeChat();
  if (state.queueSource) state.queueSource.close();
  state.queueSource = null;
  state.me = null;
  $("console-view").hidden = true;
}

async function showConsole(me) {
  state.me = me;
  $("console-view").hidden = false;
  listenQueues(); // first: a change made while the lists load is not missed, and a slow load delays nothing
  await Promise.all([loadCanned(), loadAgents(), refreshQueues()]);
  state.timers.push(setInterval(refreshQueuesSoon, QUEUE_FALLBACK_MS), setInterval(tick, 1000));
}

// A stream the server answered with an error status (not 200) is not retried by the browser: open it
// again after a pause, as long as it is still the one wanted.
function reopenWhenRefused(source, isCurrent, reopen) {
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED && isCurrent()) {
      setTimeout(() => { if (isCurrent() && state.me) reopen(); }, REOPEN_MS);
    }
  });
}

function listenQueues() {
  if (state.queueSource) state.queueSource.close();
  const source = new EventSource("/api/v1/agent/events");
  state.queueSource = source;
  source.addEventListener("queues", () => { if (state.queueSource === source) refreshQueuesSoon(); });
  reopenWhenRefused(source, () => state.queueSource === source, () => { refreshQueuesSoon(); listenQueues(); });
}

// ---------- queues ----------
async function refreshQueues() {
  if (!state.me) return;
  await Promise.all([refreshHandoffs(), state.searching ? null : refreshTickets(), refreshDesk()].filter(Boolean))
    .catch((error) => { if (error.status !== 401) $("clock").textContent = "连接中断，正在重试…"; });
}

function refreshQueuesSoon() { // one reload at a time; a change during it asks for one more
  if (state.refreshing) { state.refreshAgain = true; return; }
  state.refreshing = refreshQueues().finally(() => {
    state.refreshing = null;
    if (state.refreshAgain) { state.refreshAgain = false; refreshQueuesSoon(); }
  });
}

function emptyItem(text) { return h("li", { class: "empty" }, text); }

function handoffItem(item, mine) {
  const li = h("li", {
    "data-id": item.id, "data-kind": "handoff",
    class: [mine ? "mine" : "", state.selected?.kind === "handoff" && state.selected.id === item.id ? "selected" : ""]
      .join(" "),
    onclick: () => openHandoff(item.id),
  },
  h("div", { class: "line1" }, h("span", {}, mine ? "接待中" : "等待接入"),
    h("span", { class: "countdown", "data-since": item.created_at, "data-until": mine ? item.claimed_at : "" },
      "")),
  h("div", { class: "line2" }, item.last_citizen_text || "（无消息）"));
  return li;
}

async function refreshHandoffs() {
  const data = await api("/api/v1/agent/handoffs");
  syncClock(data.now);
  $("handoff-count").textContent = data.waiting.length;
  $("handoff-list").replaceChildren(...(data.waiting.length ? data.waiting.map((i) => handoffItem(i, false))
    : [emptyItem("暂无等待的会话")]));
  $("my-handoff-list").replaceChildren(...(data.mine.length ? data.mine.map((i) => handoffItem(i, true))
    : [emptyItem("暂无")]));
  tick();
}

function ticketItem(item, agentNames) {
  const mine = item.assigned_agent === state.me.id;
  const holder = item.assigned_agent ? (mine ? "我" : agentNames[item.assigned_agent] || "他人") : "未认领";
  const selected = state.selected?.kind === "ticket" && state.selected.id === item.id;
  return h("li", {
    "data-id": item.id, "data-kind": "ticket", "data-number": item.number,
    class: [item.priority === "urgent" ? "urgent" : "", mine ? "mine" : "", selected ? "selected" : ""].join(" "),
    onclick: () => openTicket(item.id),
  },
  h("div", { class: "line1" },
    h("span", {}, item.priority === "urgent" ? h("span", { class: "tag urgent" }, "紧急") : null, " ", item.number),
    h("span", { class: "countdown", "data-due": item.due_at || "", "data-open": item.remaining_text !== item.status ? "true" : "false" }, "")),
  h("div", { class: "line2" }, `${item.type}｜${item.status}｜${holder}｜${item.phone}${item.supervised ? "｜督办" : ""}`),
  h("div", { class: "line2" }, item.preview));
}

// The open ticket keeps its row after a search, a filter or its own move out of the queue, marked as open,
// so the agent does not lose the ticket they are working on.
function openTicketRow(items) {
  const t = state.ticket;
  if (state.selected?.kind !== "ticket" || !t || t.id !== state.selected.id || items.some((i) => i.id === t.id)) return null;
  const li = ticketItem({ ...t, preview: t.content }, { [t.assigned_agent]: t.assigned_agent_name });
  li.classList.add("pinned");
  li.querySelector(".line1 > span").prepend(h("span", { class: "tag" }, "当前打开"), " ");
  return li;
}

function renderTickets(data) {
  syncClock(data.now);
  $("ticket-count").textContent = data.items.length;
  const pinned = openTicketRow(data.items);
  const rows = data.items.length ? data.items.map((i) => ticketItem(i, data.agent_names))
    : [emptyItem(state.searching ? "没有找到匹配的工单" : "暂无待办工单")];
  $("ticket-list").replaceChildren(...[pinned, ...rows].filter(Boolean));
  tick();
}

async function refreshTickets() {
  const params = new URLSearchParams({ scope: $("ticket-scope").value });
  if ($("ticket-overdue").checked) params.set("overdue", "true");
  const data = await api(`/api/v1/tickets?${params}`);
  if (!state.searching) renderTickets(data); // a search begun meanwhile keeps its results
}

$("ticket-scope").addEventListener("change", () => { state.searching = false; act(refreshTickets); });
$("ticket-overdue").addEventListener("change", () => { state.searching = false; act(refreshTickets); });
$("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = $("search-text").value.trim();
  state.searching = Boolean(q);
  if (!q) { await act(refreshTickets); return; }
  const data = await act(() => api(`/api/v1/tickets/search?${new URLSearchParams({ q })}`));
  if (data) renderTickets(data);
});

function tick() { // live countdowns in both lists and on the open ticket
  $("clock").textContent = new Date(serverNow()).toLocaleTimeString("zh-CN", { hour12: false });
  for (const el of document.querySelectorAll(".countdown[data-due]")) {
    const li = el.closest("li");
    if (el.dataset.open === "false") { el.textContent = ""; continue; }
    const { text, cls } = slaText(el.dataset.due);
    el.textContent = text;
    li.classList.toggle("overdue", cls === "overdue");
    li.classList.toggle("soon", cls === "soon");
  }
  for (const el of document.querySelectorAll(".countdown[data-since]")) {
    const end = el.dataset.until ? parseTime(el.dataset.until) : serverNow();
    el.textContent = `${el.dataset.until ? "曾等待" : "已等待"} ${duration((end - parseTime(el.dataset.since)) / 1000)}`;
  }
  if (state.ticket && !$("ticket-pane").hidden) {
    const open = !["已办结", "已回访"].includes(state.ticket.status);
    const { text, cls } = open ? slaText(state.ticket.due_at) : { text: state.ticket.status, cls: "" };
    $("t-sla").textContent = text;
    $("t-sla").className = `sla ${cls}`;
  }
}

// ---------- conversation pane ----------
function select(kind, id) {
  if (kind !== "handoff" || state.selected?.kind !== "handoff" || state.selected.id !== id) closeChat();
  state.selected = { kind, id };
  $("empty-detail").hidden = true;
  $("conv-pane").hidden = kind !== "handoff";
  $("ticket-pane").hidden = kind !== "ticket";
  $("board-pane").hidden = kind !== "board";
  for (const li of document.querySelectorAll(".list li[data-id]")) {
    li.classList.toggle("selected", li.dataset.kind === kind && Number(li.dataset.id) === id);
  }
}

function messageItem(m) {
  const who = m.sender === "agent" && m.author ? `坐席 ${m.author}` : SENDERS[m.sender] || m.sender;
  return h("li", { class: m.sender, "data-id": m.id },
    m.sender === "system" ? null : h("span", { class: "who" }, `${who} · ${localTime(m.created_at)}`), foldable(m.text));
}

// Skips what is shown already (the stream and a reply's own answer both bring the agent's message) and
// puts a message that committed late, after a higher id, in its place.
function appendMessages(messages) {
  const list = $("conv-messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  for (const m of messages) {
    if (list.querySelector(`li[data-id="${Number(m.id)}"]`)) continue;
    const later = [...list.children].find((li) => Number(li.dataset.id) > m.id);
    list.insertBefore(messageItem(m), later || null);
    state.lastMessageId = Math.max(state.lastMessageId, m.id);
  }
  if (atBottom || messages.length) list.scrollTop = list.scrollHeight;
}

function renderHandoff(detail) {
  state.handoff = detail;
  const holding = detail.status === "claimed" && detail.agent_id === state.me.id;
  const admin = state.me.role === "admin";
  $("conv-id").textContent = detail.conversation_id.slice(0, 8);
  const label = { waiting: "等待接入", claimed: holding ? "接待中（我）" : `由${detail.agent_name || "其他坐席"}接待`,
    closed: "已结束" }[detail.status];
  $("conv-status").textContent = label;
  $("conv-slots").replaceChildren(...slotChips(detail.slot_fields));
  $("conv-claim").hidden = detail.status !== "waiting";
  const manage = holding || (admin && detail.status === "claimed");
  for (const id of ["conv-transfer", "conv-transfer-to", "conv-bot", "conv-close", "conv-ticket"]) $(id).hidden = !manage;
  $("reply-form").hidden = !holding;
  $("canned").hidden = !holding;
  if (!manage) $("ticket-form").hidden = true;
}

// Draws the detail; when what the agent may see changed (a claim shows the numbers in full, a transfer
// masks them again) the transcript is drawn again from the detail's messages.
function showHandoff(detail) {
  if (state.handoff?.id !== detail.id || state.handoff.in_full !== detail.in_full) {
    state.lastMessageId = 0;
    $("conv-messages").replaceChildren();
  }
  renderHandoff(detail);
  appendMessages(detail.messages);
}

async function openHandoff(id) {
  const detail = await act(() => api(`/api/v1/agent/handoffs/${id}`));
  if (!detail) return;
  select("handoff", id);
  state.handoff = null;
  $("ticket-form").hidden = true;
  showHandoff(detail);
  if (detail.mode !== null) listenChat(id); // a conversation row that is gone has nothing more to say
  else closeChat();
}

function showing(id) { return state.selected?.kind === "handoff" && state.selected.id === id; }

function closeChat() {
  if (state.chatSource) state.chatSource.close();
  state.chatSource = null;
}

// The open conversation's stream: new messages, and its state, whose change (another agent claimed it, a
// transfer, an admin closed it) redraws the buttons from a fresh detail.
function listenChat(id) {
  closeChat();
  const source = new EventSource(`/api/v1/agent/handoffs/${id}/stream?after=${state.lastMessageId}`);
  state.chatSource = source;
  const current = () => state.chatSource === source && showing(id);
  source.addEventListener("message", (event) => { if (current()) appendMessages([JSON.parse(event.data)]); });
  source.addEventListener("handoff", (event) => {
    const now = JSON.parse(event.data), had = state.handoff;
    const changed = had && ["status", "agent_id", "in_full"].some((key) => now[key] !== had[key]);
    if (current() && changed) reloadHandoff(id);
  });
  source.addEventListener("gone", () => { if (state.chatSource === source) closeChat(); });
  reopenWhenRefused(source, current, () => listenChat(id));
}

async function reloadHandoff(id) {
  const detail = await api(`/api/v1/agent/handoffs/${id}`).catch(() => null);
  if (detail && showing(id)) showHandoff(detail);
}

async function handoffAction(path, body) {
  const id = state.selected.id;
  const detail = await act(() => api(`/api/v1/agent/handoffs/${id}/${path}`, { method: "POST", body }));
  if (detail && showing(id)) { showHandoff(detail); await act(refreshHandoffs); }
  return detail;
}

$("conv-claim").addEventListener("click", async () => {
  if (await handoffAction("claim")) { toast("已接入会话"); $("reply-text").focus(); }
});
$("conv-transfer").addEventListener("click", async () => {
  const target = Number($("conv-transfer-to").value);
  if (!target) { toast("请选择要转接的坐席", true); return; }
  if (await handoffAction("transfer", { agent_id: target })) toast("已转接");
});
$("conv-bot").addEventListener("click", async () => { if (await handoffAction("bot")) toast("已交回智能助手"); });
$("conv-close").addEventListener("click", async () => { if (await handoffAction("close")) toast("会话已结束"); });

async function sendReply(text) {
  text = text.trim();
  if (!text) return;
  const id = state.selected.id;
  const sent = await act(() => api(`/api/v1/agent/handoffs/${id}/reply`, { method: "POST", body: { text } }));
  if (sent) { $("reply-text").value = ""; appendMessages([sent]); }
}
$("reply-form").addEventListener("submit", (event) => { event.preventDefault(); sendReply($("reply-text").value); });
$("reply-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendReply($("reply-text").value);
  }
});

async function loadCanned() {
  const replies = await act(() => api("/api/v1/agent/canned-replies")) || [];
  $("canned").replaceChildren(...replies.map((text) => h("button", {
    type: "button", title: text, onclick: () => { $("reply-text").value = text; $("reply-text").focus(); },
  }, text)));
}

async function loadAgents() {
  const agents = await act(() => api("/api/v1/agent/agents")) || [];
  $("conv-transfer-to").replaceChildren(h("option", { value: "" }, "转接给…"),
    ...agents.map((a) => h("option", { value: a.id }, a.display_name)));
}

$("conv-ticket").addEventListener("click", async () => {
  const draft = await act(() => api(`/api/v1/agent/handoffs/${state.selected.id}/ticket-draft`));
  if (!draft) return;
  $("tf-type").value = draft.type;
  $("tf-phone").value = draft.phone || "";
  $("tf-name").value = draft.name || "";
  $("tf-location").value = draft.location || "";
  $("tf-content").value = draft.content;
  $("tf-priority").value = "normal";
  $("tf-hint").textContent = `分类预测：${draft.category}（置信度 ${Math.round(draft.category_confidence * 100)}%），`
    + `建议承办部门：${draft.suggested_department}`;
  $("ticket-form").hidden = false;
});
$("tf-cancel").addEventListener("click", () => { $("ticket-form").hidden = true; });
$("ticket-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    type: $("tf-type").value, phone: $("tf-phone").value, name: $("tf-name").value || null,
    location: $("tf-location").value || null, content: $("tf-content").value, priority: $("tf-priority").value,
  };
  const made = await act(() => api(`/api/v1/agent/handoffs/${state.selected.id}/ticket`, { method: "POST", body }));
  if (made) { $("ticket-form").hidden = true; toast(`已创建工单 ${made.number}`); await act(refreshTickets); }
});

// ---------- start ----------
Staff.signIn({
  roles: ["agent", "supervisor", "admin"], refusal: "该账号不是坐席，无法使用坐席工作台", signedIn: showConsole, signedOut: hideConsole,
});
