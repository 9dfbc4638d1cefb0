// The desk in the agent console: the agent's 在线/离开 switch and load, and for supervisors (and admins) the
// board (排队, 接待中, 坐席负荷, 临近超时工单) with each agent's skills. Loaded after console.js, whose helpers
// (h, api, act, toast, state, select) it uses; console.js calls refreshDesk() whenever the queues change,
// so the board is as live as the lists. Assignment itself happens on the server (hotline.assignment).
"use strict";

const SUPERVISORS = ["supervisor", "admin"];
const STATUS_LABELS = { online: "在线", away: "离开" };

function isSupervisor() { return Boolean(state.me && SUPERVISORS.includes(state.me.role)); }

function minutesText(seconds) {
  const m = Math.floor(seconds / 60);
  return m >= 60 ? `${Math.floor(m / 60)}小时${m % 60}分` : `${m}分${seconds % 60}秒`;
}

function renderPlace(place) {
  const online = place.status === "online";
  const button = $("desk-status");
  button.textContent = online ? "在线" : "离开";
  button.setAttribute("aria-pressed", String(online));
  button.title = online ? "点击设为离开：不再自动分配新的会话和工单" : "点击设为在线：系统自动为您分配会话和工单";
  const missed = place.away_reason ? `（${place.away_reason}，已自动设为离开）` : "";
  $("desk-load").textContent = `会话 ${place.conversations}/${place.max_conversations}｜工单 ${place.tickets}${missed}`;
}

function cells(...values) { return values.map((v) => h("td", {}, v ?? "—")); }

function boardRows(id, rows, render, emptyText, columns) {
  $(id).replaceChildren(...(rows.length ? rows.map(render)
    : [h("tr", {}, h("td", { colspan: String(columns), class: "muted" }, emptyText))]));
}

function skillsCell(agent) {
  const input = h("input", { value: agent.skills.join("，"), "aria-label": `${agent.name}的技能` });
  const save = h("button", { type: "button" }, "保存");
  save.addEventListener("click", async () => {
    const skills = input.value.split(/[,，、\s]+/).filter(Boolean);
    const done = await act(() => api(`/api/v1/desk/agents/${agent.user_id}/skills`, { method: "PUT", body: { skills } }));
    if (done) { toast(`已保存${agent.name}的技能`); refreshDesk(); }
  });
  return h("td", { class: "skills" }, input, " ", save);
}

function renderBoard(board) {
  const hours = board.hours;
  $("board-hours").textContent = hours.open ? `服务中：${hours.reply_within_minutes}分钟内回复`
    : `非服务时间：${hours.opens_at ? localTime(hours.opens_at) : ""} 开始，转人工时引导留言`;
  $("board-waiting-count").textContent = board.waiting.length;
  $("board-talking-count").textContent = board.talking.length;
  $("board-online-count").textContent = board.agents.filter((a) => a.status === "online").length;
  $("board-risk-count").textContent = board.tickets_at_risk.length;
  boardRows("board-waiting", board.waiting, (r) => h("tr", { class: r.at_risk ? "risk" : "", "data-id": r.handoff_id },
    ...cells(r.conversation_id.slice(0, 8), r.category, minutesText(r.waited_seconds),
      r.returned_count ? `${r.returned_count} 次（${r.returned_from || "坐席"}未应答）` : "")), "暂无排队", 4);
  boardRows("board-talking", board.talking, (r) => h("tr", { "data-id": r.handoff_id },
    ...cells(r.conversation_id.slice(0, 8), r.category, r.agent_name, minutesText(r.waited_seconds))), "暂无", 4);
  boardRows("board-agents", board.agents, (a) => h("tr", { class: a.away_reason ? "risk" : "", "data-user": a.user_id },
    ...cells(a.name, STATUS_LABELS[a.status] + (a.away_reason ? `（${a.away_reason}）` : ""),
      `${a.conversations}/${board.max_conversations}${a.full ? " 已满" : ""}`, String(a.tickets)), skillsCell(a)),
  "暂无坐席", 5);
  boardRows("board-risk", board.tickets_at_risk, (t) => h("tr", { class: t.overdue ? "risk" : "" },
    ...cells(t.number, t.category, t.status, t.agent_name, t.remaining_text)), "暂无临近超时的工单", 5);
}

// Called by console.js with every queue reload; the board is read only while it is on screen.
async function refreshDesk() {
  if (!state.me) return;
  renderPlace(await api("/api/v1/desk/me"));
  $("board-open").hidden = !isSupervisor();
  if (isSupervisor() && !$("board-pane").hidden) renderBoard(await api("/api/v1/desk/board"));
}

$("desk-status").addEventListener("click", async () => {
  const next = $("desk-status").getAttribute("aria-pressed") === "true" ? "away" : "online";
  const place = await act(() => api("/api/v1/desk/me", { method: "PUT", body: { status: next } }));
  if (place) { renderPlace(place); toast(next === "online" ? "已设为在线，系统将自动分配会话" : "已设为离开"); }
});

$("board-open").addEventListener("click", async () => {
  select("board", 0);
  await act(refreshDesk);
});
