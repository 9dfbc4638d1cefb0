// The agent console's ticket view: details, SLA, category with the classifier's confidence, lifecycle buttons
// and the events timeline. Loaded after console.js, whose helpers (h, api, act, toast, state, tick) it uses.
"use strict";

const ACTION_FIELDS = {
  派单: [["department", "承办部门", "input"]],
  办结: [["resolution", "办理结果", "textarea"]],
  回访: [["rating", "满意度（1-5）", "rating"], ["note", "回访记录", "input"]],
  退回: [["reason", "退回原因", "input"]],
  延期: [["reason", "延期原因", "input"], ["working_days", "延期工作日", "number"]],
  督办: [["note", "督办意见", "input"]],
};

const RATING_WORDS = ["", "非常不满意", "不满意", "一般", "满意", "非常满意"];

// ---------- ticket pane ----------
function field(label, value) { return [h("dt", {}, label), h("dd", {}, value ?? "—")]; }

// The 回访 satisfaction, and who gave it: the last rating event says whether the citizen rated in the chat.
function ratingText(t) {
  if (!t.rating) return null;
  const last = [...t.events].reverse().find((e) => e.details && e.details.rating);
  const who = last && last.details.by === "citizen" ? "，市民在对话中评价" : "";
  return `${t.rating} 分（${RATING_WORDS[t.rating] || ""}）${who}`;
}

function renderTicket(t) {
  state.ticket = t;
  const mine = t.assigned_agent === state.me.id;
  $("t-number").textContent = t.number;
  $("t-status").textContent = t.status;
  $("t-fields").replaceChildren(...[
    field("类型", `${t.type}${t.priority === "urgent" ? "（紧急）" : ""}${t.supervised ? "｜督办中" : ""}`),
    field("认领人", t.assigned_agent_name || "未认领"),
    field("联系电话", t.phone + (t.contact_in_full ? "" : "（仅认领人可见完整号码）")),
    field("姓名", t.citizen_name), field("地点", t.location), field("事发时间", t.event_time),
    field("内容", foldable(t.content)), field("承办部门", t.department),
    field("登记时间", localTime(t.created_at)), field("办理时限", localTime(t.due_at)),
    field("办理结果", t.resolution), field("满意度", ratingText(t)),
  ].flat());
  const category = $("t-category");
  category.replaceChildren(h("option", { value: "" }, "（未分类）"),
    ...t.categories.map((c) => h("option", { value: c }, c)));
  category.value = t.category || "";
  category.disabled = ["已办结", "已回访"].includes(t.status) || (t.assigned_agent && !mine && state.me.role !== "admin");
  const p = t.prediction;
  const stored = t.category_confidence === null || t.category_confidence === undefined
    ? (t.category ? "（人工选择）" : "") : `（当前分类置信度 ${Math.round(t.category_confidence * 100)}%）`;
  $("t-prediction").textContent = `${stored} 模型预测：${p.category}，置信度 ${Math.round(p.category_confidence * 100)}%；`
    + `建议承办部门：${t.suggested_department}`;

  const buttons = [];
  const open = !["已办结", "已回访"].includes(t.status);
  if (open && !t.assigned_agent) buttons.push(h("button", { class: "primary", "data-action": "认领", onclick: claimTicket }, "认领"));
  if (open && (mine || (t.assigned_agent && state.me.role === "admin"))) {
    buttons.push(h("button", { "data-action": "释放", onclick: releaseTicket }, "释放"));
  }
  const canAct = !t.assigned_agent || mine || state.me.role === "admin";
  for (const action of t.allowed_actions) {
    if (action === "督办" && !["supervisor", "admin"].includes(state.me.role)) continue;
    buttons.push(h("button", { "data-action": action, disabled: !canAct, onclick: () => startAction(action) }, action));
  }
  $("t-actions").replaceChildren(...buttons);
  $("t-events").replaceChildren(...t.events.map((e) => h("li", {},
    h("strong", {}, e.action), ` ${e.from_status && e.from_status !== e.to_status ? `${e.from_status} → ` : ""}${e.to_status}`,
    ` · ${e.actor_name}`, h("span", { class: "when" }, localTime(e.at)),
    e.details && e.details.rating ? h("div", { class: "muted" }, `满意度 ${e.details.rating} 分`) : null,
    e.note ? h("div", { class: "muted" }, foldable(e.note)) : null)));
  $("t-slots").replaceChildren(...(t.slot_fields || []).flatMap((f) => field(f.label, f.value)));
  const SENDERS = { citizen: "市民", bot: "机器人", agent: "坐席", system: "系统" };
  $("t-transcript").replaceChildren(...(t.transcript.length ? t.transcript.map((m) => h("li", { class: m.sender },
    h("strong", {}, SENDERS[m.sender] || m.sender), "：", foldable(m.text), h("span", { class: "when" }, localTime(m.at))))
    : [h("li", { class: "muted" }, "（该工单不是从网页对话中产生的）")]));
  tick();
}

async function openTicket(id) {
  const t = await act(() => api(`/api/v1/tickets/${id}`));
  if (!t) return;
  select("ticket", id);
  $("t-action-form").hidden = true;
  renderTicket(t);
}

async function ticketCall(path, options) {
  const t = await act(() => api(`/api/v1/tickets/${state.ticket.id}${path}`, options));
  if (t) { renderTicket(t); $("t-action-form").hidden = true; await act(refreshTickets); }
  return t;
}
async function claimTicket() { if (await ticketCall("/claim", { method: "POST" })) toast("已认领"); }
async function releaseTicket() { if (await ticketCall("/release", { method: "POST" })) toast("已释放回队列"); }

function startAction(action) {
  const fields = ACTION_FIELDS[action];
  if (!fields) { runAction(action, {}); return; }
  const form = $("t-action-form");
  const inputs = fields.map(([name, label, kind]) => {
    let input;
    if (kind === "textarea") input = h("textarea", { name, rows: 3 });
    else if (kind === "rating") input = h("select", { name }, [5, 4, 3, 2, 1].map((n) => h("option", { value: n }, n)));
    else input = h("input", { name, type: kind === "number" ? "number" : "text", min: kind === "number" ? 1 : null });
    if (name === "department") input.value = state.ticket.suggested_department || "";
    return h("label", { class: kind === "textarea" ? "wide" : null }, label, input);
  });
  form.replaceChildren(h("strong", { class: "wide" }, `${action}：${state.ticket.number}`), ...inputs,
    h("div", { class: "row wide" },
      h("button", { type: "submit", class: "primary", "data-confirm": action }, `确认${action}`),
      h("button", { type: "button", onclick: () => { form.hidden = true; } }, "取消")));
  form.onsubmit = (event) => {
    event.preventDefault();
    const values = {};
    for (const [name, , kind] of fields) {
      const raw = form.elements[name].value.trim();
      if (raw) values[name] = kind === "rating" || kind === "number" ? Number(raw) : raw;
    }
    runAction(action, values);
  };
  form.hidden = false;
  form.querySelector("input, textarea, select")?.focus();
}

async function runAction(action, values) {
  if (await ticketCall("/transitions", { method: "POST", body: { action, ...values } })) toast(`已${action}`);
}

$("t-category").addEventListener("change", async () => {
  const category = $("t-category").value;
  if (!category) return;
  if (await ticketCall("/category", { method: "PUT", body: { category } })) toast(`分类已改为 ${category}`);
});
