// 数据看板: how the assistant did over the last 7 / 30 / 90 days, from GET /api/v1/dashboard.
// Headline figures on cards, then Chart.js charts (vendored at /studio/vendor/chart.umd.js, so the page
// works on an offline intranet): conversations per day, outcomes, top matters, top unanswered groups,
// the rating distribution, tickets by type and status; and the most overdue tickets (masked numbers).
// #/dashboard/7 opens the last 7 days; the selector changes the hash so a window can be bookmarked.
"use strict";

(() => {
  const { h, api, view, go, localTime, query } = Studio;
  const WINDOWS = [7, 30, 90];
  const COLORS = {
    red: "#c8102e", blue: "#2563eb", green: "#047857", amber: "#d97706", grey: "#9ca3af",
    purple: "#7c3aed", teal: "#0d9488",
  };
  const OUTCOME_COLORS = {
    handed_off: COLORS.amber, answered: COLORS.green, ticket: COLORS.blue, unanswered: COLORS.red, other: COLORS.grey,
  };
  const STATUS_COLORS = ["#fca5a5", "#fdba74", "#fcd34d", "#93c5fd", "#6ee7b7", "#059669"];
  const RATING_COLORS = ["#b91c1c", "#f97316", "#facc15", "#84cc16", "#059669"];
  let charts = []; // the charts on the page now; destroyed before the next render

  const percent = (share) => (share === null || share === undefined ? "—" : `${(share * 100).toFixed(1)}%`);
  const short = (text, n = 16) => (text.length > n ? `${text.slice(0, n)}…` : text);

  if (window.Chart) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#374151";
    Chart.defaults.animation.duration = 300;
    Chart.defaults.maintainAspectRatio = false;
  }

  function figure(key, label, value, note, tone = "") {
    return h("div", { class: `card figure ${tone}`, "data-figure": key },
      h("div", { class: "figure-label" }, label),
      h("div", { class: "figure-value" }, value),
      h("div", { class: "figure-note muted" }, note));
  }

  // A card with a title and a canvas; `config` is drawn once the card is in the page (Chart.js measures it).
  function chartCard(id, title, config, note) {
    const canvas = h("canvas", { id, role: "img", "aria-label": title });
    const card = h("section", { class: "card chart-card" }, h("h3", {}, title), h("div", { class: "chart-box" }, canvas),
      note ? h("p", { class: "muted chart-note" }, note) : null);
    card.draw = () => charts.push(new Chart(canvas, config));
    return card;
  }

  function emptyCard(title, text) {
    const card = h("section", { class: "card chart-card" }, h("h3", {}, title), h("p", { class: "muted empty" }, text));
    card.draw = () => {};
    return card;
  }

  function horizontalBars(labels, full, data, label, color, onClick) {
    return {
      type: "bar",
      data: { labels, datasets: [{ label, data, backgroundColor: color, borderRadius: 3 }] },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => full[items[0].dataIndex] } } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick,
      },
    };
  }

  function perDayChart(conv) {
    const labels = conv.per_day.map((d) => d.day.slice(5));
    return chartCard("chart-per-day", "每日会话数", {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: "有效会话（市民有发言）", data: conv.per_day.map((d) => d.active), borderColor: COLORS.red,
            backgroundColor: "rgba(200, 16, 46, .12)", fill: true, tension: 0.25, pointRadius: 2 },
          { label: "打开会话", data: conv.per_day.map((d) => d.started), borderColor: COLORS.grey,
            borderDash: [4, 4], pointRadius: 0, tension: 0.25 },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { tooltip: { callbacks: { title: (items) => conv.per_day[items[0].dataIndex].day } } },
      },
    });
  }

  function outcomeChart(conv) {
    const keys = Object.keys(conv.outcomes);
    if (!conv.active) return emptyCard("会话结果", "这段时间还没有市民发言的会话。");
    return chartCard("chart-outcomes", "会话结果", {
      type: "doughnut",
      data: {
        labels: keys.map((k) => conv.outcome_labels[k] || k),
        datasets: [{ data: keys.map((k) => conv.outcomes[k]), backgroundColor: keys.map((k) => OUTCOME_COLORS[k] || COLORS.grey) }],
      },
      options: {
        plugins: {
          legend: { position: "right" },
          tooltip: { callbacks: { label: (item) => ` ${item.label}：${item.raw}（${percent(item.raw / conv.active)}）` } },
        },
      },
    }, `每个会话只计一种结果，依次为转人工、已解答、已登记工单、未解答。解答率 ${percent(conv.answered.share)}，`
      + `转人工率 ${percent(conv.handed_off.share)}（两者可重叠）。`);
  }

  function mattersChart(list) {
    if (!list.length) return emptyCard("咨询最多的事项", "这段时间还没有展示过办事指南。");
    const full = list.map((m) => (m.department ? `${m.name}（${m.department}）` : m.name));
    return chartCard("chart-matters", "咨询最多的事项",
      horizontalBars(list.map((m) => short(m.name)), full, list.map((m) => m.conversations), "会话数", COLORS.red),
      "按展示过该事项指南、办理要点或一次告知清单的会话计数。");
  }

  function unansweredChart(groups, total) {
    if (!groups.length) return emptyCard("未解决问题（按问题组）", total ? "这段时间的未解决问题都已处理。" : "这段时间没有未解决问题。");
    return chartCard("chart-unanswered", "未解决问题（按问题组）",
      horizontalBars(groups.map((g) => short(g.representative)), groups.map((g) => g.representative),
        groups.map((g) => g.count), "问题数", COLORS.amber, () => go("#/unanswered")),
      "点击图表到「未解决问题」处理。问题中的电话、证件号已隐去。");
  }

  function ratingChart(ratings) {
    return chartCard("chart-ratings", `评分分布（平均 ${ratings.average ?? "—"} 分，共 ${ratings.count} 次评价）`, {
      type: "bar",
      data: {
        labels: ["1分 非常不满意", "2分 不满意", "3分 一般", "4分 满意", "5分 非常满意"],
        datasets: [{ label: "评价数", data: ratings.distribution, backgroundColor: RATING_COLORS, borderRadius: 3 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function ticketChart(tickets) {
    const types = Object.keys(tickets.by_type);
    const statuses = Object.keys(tickets.by_status);
    return chartCard("chart-tickets", `工单类型与状态（共 ${tickets.total} 件）`, {
      type: "bar",
      data: {
        labels: types,
        datasets: statuses.map((status, i) => ({
          label: status, data: types.map((t) => tickets.by_type_and_status[t][status]),
          backgroundColor: STATUS_COLORS[i % STATUS_COLORS.length],
        })),
      },
      options: {
        plugins: { legend: { position: "bottom" } },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    }, "按这段时间登记的工单统计。");
  }

  function overdueCard(overdue) {
    const rows = overdue.oldest.map((t) => h("tr", { "data-number": t.number },
      h("td", { class: "mono" }, t.number), h("td", {}, t.type), h("td", {}, t.status),
      h("td", { class: "late" }, t.remaining_text), h("td", {}, localTime(t.due_at)),
      h("td", {}, t.preview), h("td", { class: "mono" }, t.phone)));
    return h("section", { class: "card overdue-card", id: "dash-overdue" },
      h("h3", {}, `超时工单 `, h("span", { class: overdue.count ? "pill bad" : "pill ok" }, `${overdue.count} 件`)),
      overdue.count
        ? h("table", { class: "grid" },
          h("thead", {}, h("tr", {}, ["工单编号", "类型", "状态", "超时", "办理时限", "内容", "电话"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows))
        : h("p", { class: "muted" }, "目前没有超时未办结的工单。"),
      overdue.count > overdue.oldest.length
        ? h("p", { class: "muted" }, `只列出超时最久的 ${overdue.oldest.length} 件，全部请到坐席工作台查看。`) : null);
  }

  view("dashboard", async (root, arg) => {
    for (const chart of charts) chart.destroy();
    charts = [];
    const days = WINDOWS.includes(Number(arg)) ? Number(arg) : 30;
    const data = await api(`/api/v1/dashboard${query({ days })}`);
    const conv = data.conversations;
    const picker = h("select", { id: "dash-days", "aria-label": "统计范围",
      onchange: (event) => go(`#/dashboard/${event.target.value}`) },
    WINDOWS.map((d) => h("option", { value: d, selected: d === days }, `最近 ${d} 天`)));

    const figures = h("div", { class: "dash-figures" },
      figure("active", "会话数", conv.active, `共打开 ${conv.started} 次`),
      figure("answered", "解答率", percent(conv.answered.share), `${conv.answered.count} 个会话找到办事指南`),
      figure("handed_off", "转人工率", percent(conv.handed_off.share), `${conv.handed_off.count} 个会话转人工`),
      figure("unanswered", "未解决问题", data.unanswered_questions, `${conv.unanswered.count} 个会话未找到答案`),
      figure("rating", "平均评分", data.ratings.average ?? "—", `共 ${data.ratings.count} 次评价（满分 5 分）`),
      figure("tickets", "新登记工单", data.tickets.total, `${conv.ticket.count} 个助手会话登记了工单`),
      figure("overdue", "超时工单", data.overdue.count, "目前所有未办结工单", data.overdue.count ? "bad" : ""));

    const cards = [perDayChart(conv), outcomeChart(conv), mattersChart(data.top_matters),
      unansweredChart(data.top_unanswered, data.unanswered_questions), ratingChart(data.ratings), ticketChart(data.tickets)];
    root.replaceChildren(
      h("div", { class: "filters dash-head" }, h("h2", {}, "数据看板"), picker,
        h("span", { class: "muted" }, `${data.since} 至 ${data.until}（${data.timezone === "Asia/Shanghai" ? "北京时间" : data.timezone}）`),
        h("span", { class: "spacer" }),
        h("span", { class: "muted" }, `更新于 ${localTime(data.generated_at)}`)),
      figures,
      window.Chart ? h("div", { class: "charts", id: "dash-charts" }, cards)
        : h("p", { class: "error" }, "图表组件未加载（/studio/vendor/chart.umd.js），只能显示数字。"),
      overdueCard(data.overdue));
    if (window.Chart) for (const card of cards) card.draw();
  });
})();
