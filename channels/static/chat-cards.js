// The chat page's cards: the 一次告知 checklist and the ticket card, drawn from the structured messages
// (never dumped as JSON). Loaded before chat.js, which draws the conversation around them.
"use strict";

const ChatCards = (() => {
  const STATUS = {
    have: { mark: "✓", label: "已备齐" },
    missing: { mark: "✗", label: "还缺" },
    not_applicable: { mark: "—", label: "不适用" },
    not_needed: { mark: "✓", label: "无需提交" },
    unknown: { mark: "○", label: "请准备" },
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }
  function link(url, text) {
    const a = el("a", null, text || url);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }
  function copiesText(m) {
    const bits = [];
    if (m.original_count) bits.push("原件" + m.original_count + "份");
    if (m.copy_count) bits.push("复印件" + m.copy_count + "份");
    if (!bits.length && m.original_or_copy) bits.push(m.original_or_copy);
    return bits.join("，");
  }

  function timeLimitText(t) {
    if (!t) return null;
    const legal = t.legal_days, promised = t.promised_days;
    if (promised === 0 || (promised == null && legal === 0)) return "即办（符合条件的当场办结）";
    const parts = [];
    if (promised != null) parts.push("承诺" + promised + "个工作日内办结");
    if (legal != null) parts.push("法定" + legal + "个工作日");
    return parts.join("，") || null;
  }

  function visitsText(v) {
    if (v === null || v === undefined || v === "") return null;
    if (typeof v === "number") return v === 0 ? "无需到现场（全程网办）" : "最多跑" + v + "次";
    return String(v);
  }

  function renderChecklist(stack, m) {
    const c = m.checklist || {};
    const matter = c.matter || {};
    const card = el("section", "card checklist");
    const head = el("div", "card-head");
    head.appendChild(el("div", "card-kicker", "一次告知清单"));
    head.appendChild(el("h3", "card-title", matter.name || "办事指南"));
    if (matter.department) head.appendChild(el("div", "card-sub", matter.department));
    card.appendChild(head);

    const body = el("div", "card-body");
    const online = safeUrl(c.online_url);
    if (c.fully_online) { // 最多跑一次: the best news first
      const banner = el("div", "fully-online", "可全程网办，无需跑腿");
      if (online) { banner.appendChild(document.createTextNode(" ")); banner.appendChild(link(online, "立即网上办理")); }
      body.appendChild(banner);
    }
    if (c.bundle) { // 一件事: the matters in the order to do them, then one list of papers
      const order = el("ol", "bundle-order");
      order.setAttribute("aria-label", "办理顺序");
      (c.bundle.matters || []).forEach((x) => order.appendChild(el("li", null, x.name + (x.department ? "（" + x.department + "）" : ""))));
      if (order.childNodes.length) {
        body.appendChild(el("div", "bundle-head", "包含 " + order.childNodes.length + " 个事项，请按顺序办理"));
        body.appendChild(order);
      }
      if (c.bundle.note) body.appendChild(el("div", "m-meta bundle-note", c.bundle.note));
    }
    const all = c.materials || [];
    // Older checklists have no must_bring: every material is then one to bring.
    const materials = all.filter((x) => x.must_bring !== false);
    const notNeeded = all.filter((x) => x.must_bring === false);
    const counts = {};
    materials.forEach((x) => { counts[x.status] = (counts[x.status] || 0) + 1; });
    const tally = el("div", "tally");
    tally.appendChild(el("span", "tag-unknown", "需提交 " + materials.length + " 项"));
    ["have", "missing", "not_applicable"].forEach((s) => {
      if (counts[s]) tally.appendChild(el("span", "tag-" + s, STATUS[s].label + " " + counts[s]));
    });
    if (notNeeded.length) tally.appendChild(el("span", "tag-saved", "为您省去 " + notNeeded.length + " 份材料"));
    body.appendChild(tally);

    const list = el("ul", "materials");
    if (!all.length) list.appendChild(el("li", "material", "办事指南中未列出需要提交的材料，具体以窗口要求为准。"));
    materials.forEach((x) => {
      const status = STATUS[x.status] ? x.status : "unknown";
      const item = el("li", "material status-" + status);
      item.dataset.status = status;
      item.appendChild(el("span", "mark", STATUS[status].mark));
      const main = el("div", "m-main");
      const name = el("div", "m-name", x.name);
      name.appendChild(el("span", "m-state tag-" + status, STATUS[status].label));
      main.appendChild(name);
      if (x.condition) main.appendChild(el("div", "m-cond", x.condition + "需要"));
      else if (x.required === false) main.appendChild(el("div", "m-cond", "非必需"));
      if (x.e_licence) main.appendChild(el("div", "m-cond e-licence", "可用电子证照"));
      if ((x.matters || []).length > 1) main.appendChild(el("div", "m-cond shared-by", x.matters.join("、") + "共用，只需准备一份"));
      const meta = [copiesText(x), x.medium, x.source ? "来源：" + x.source : null].filter(Boolean).join("，");
      const details = [meta, x.note].filter(Boolean).join("。");
      if (details) main.appendChild(el("div", "m-meta", details));
      item.appendChild(main);
      list.appendChild(item);
    });
    body.appendChild(list);
    if (notNeeded.length) {
      body.appendChild(el("div", "no-need-head", "无需提交（" + notNeeded.length + " 项）"));
      const spared = el("ul", "materials no-need");
      notNeeded.forEach((x) => {
        const item = el("li", "material status-not_needed");
        item.dataset.status = "not_needed";
        item.appendChild(el("span", "mark", STATUS.not_needed.mark));
        const main = el("div", "m-main");
        main.appendChild(el("div", "m-name", x.name));
        main.appendChild(el("div", "m-meta", x.no_need || "无需提交"));
        item.appendChild(main);
        spared.appendChild(item);
      });
      body.appendChild(spared);
    }

    const missing = materials.filter((x) => x.status === "missing").map((x) => x.name);
    if (missing.length) body.appendChild(el("div", "missing-note", "您还需要准备：" + missing.join("、")));

    const facts = el("dl", "facts");
    const addFact = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.appendChild(el("dt", null, label));
      const dd = el("dd");
      if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
      facts.appendChild(dd);
    };
    addFact("办理地点", c.location);
    addFact("办理时间", c.hours);
    addFact("网上办理", online ? link(online, "在线办理入口") : c.online_url);
    addFact("办理时限", timeLimitText(c.time_limit));
    addFact("收费标准", c.fee);
    addFact("跑动次数", visitsText(c.visits));
    addFact("咨询电话", c.phone);
    if (facts.childNodes.length) body.appendChild(facts);
    card.appendChild(body);

    const foot = el("div", "card-foot");
    foot.appendChild(document.createTextNode(matter.code ? "事项编码：" + matter.code : "事项编号：" + (matter.external_id || "")));
    const src = safeUrl(matter.source_url);
    if (src) { foot.appendChild(document.createTextNode("；")); foot.appendChild(link(src, "查看办事指南原文")); }
    if (matter.updated_at) foot.appendChild(document.createTextNode("；更新日期：" + String(matter.updated_at).slice(0, 10)));
    foot.appendChild(document.createTextNode("。具体以办理窗口要求为准。"));
    card.appendChild(foot);
    stack.classList.add("wide");
    stack.appendChild(card);
  }

  // The card's title follows the ticket's status: a citizen asking about a closed ticket is not told it was
  // just filed.
  const TICKET_KICKER = {
    待受理: "12345 工单已登记", 已受理: "12345 工单已受理", 已派单: "12345 工单已派单", 办理中: "12345 工单办理中",
    已办结: "12345 工单已办结", 已回访: "12345 工单已回访",
  };
  const RATING_WORDS = ["", "非常不满意", "不满意", "一般", "满意", "非常满意"];
  const CLOSED = ["已办结", "已回访"];

  function ratedText(score) {
    return "您的满意度评价：" + "★".repeat(score) + "☆".repeat(5 - score) + " " + score + " 分（" + RATING_WORDS[score] + "）";
  }

  // 回访 满意度 from the chat: one press on a star sends it (rate posts it and answers with the card as it now is).
  function ticketRating(t, rate, rated) {
    const box = el("div", "ticket-rating");
    box.appendChild(el("div", "ticket-line", t.rating ? "如需修改评价，请重新选择：" : "请为本次办理结果评分："));
    const stars = el("div", "stars");
    stars.setAttribute("role", "group");
    stars.setAttribute("aria-label", "为工单 " + t.number + " 的办理结果评分");
    const result = el("div", "ticket-rated");
    result.setAttribute("role", "status");
    if (t.rating) result.textContent = ratedText(t.rating);
    for (let i = 1; i <= 5; i++) {
      const star = el("button", "star" + (t.rating && i <= t.rating ? " on" : ""), "★");
      star.type = "button";
      star.dataset.score = i;
      star.setAttribute("aria-label", i + " 分 " + RATING_WORDS[i]);
      star.addEventListener("click", async () => {
        stars.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        try {
          const now = await rate(t.number, i);
          stars.querySelectorAll(".star").forEach((s) => s.classList.toggle("on", Number(s.dataset.score) <= now.rating));
          result.textContent = ratedText(now.rating) + "，已提交，感谢您的反馈！";
          rated(now);
        } catch (e) {
          result.textContent = e.message;
        }
        stars.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      });
      stars.appendChild(star);
    }
    box.append(stars, result);
    return box;
  }

  function renderTicket(stack, m, rate) {
    const t = m.ticket || {};
    const closed = CLOSED.includes(t.status);
    const card = el("section", "card ticket-card" + (closed ? " closed" : ""));
    card.dataset.status = t.status || "";
    card.dataset.number = t.number || "";
    const head = el("div", "card-head");
    const kicker = el("div", "card-kicker", TICKET_KICKER[t.status] || "12345 工单");
    head.appendChild(kicker);
    head.appendChild(el("h3", "card-title", (t.ticket_type || "诉求") + "工单"));
    card.appendChild(head);
    const body = el("div", "card-body");
    body.appendChild(el("div", "ticket-line", "工单编号"));
    body.appendChild(el("div", "ticket-number", t.number));
    const status = el("div", "ticket-line ticket-status", "当前状态：" + t.status);
    if (t.status) body.appendChild(status);
    if (closed) {
      const facts = el("dl", "facts ticket-result");
      facts.appendChild(el("dt", null, "承办部门"));
      facts.appendChild(el("dd", null, t.department || "12345热线"));
      facts.appendChild(el("dt", null, "办理结果"));
      facts.appendChild(el("dd", "resolution", t.resolution || "（暂无文字说明）"));
      body.appendChild(facts);
      const rated = (now) => { // a rating is the 回访: the card says so at once
        kicker.textContent = TICKET_KICKER[now.status] || kicker.textContent;
        status.textContent = "当前状态：" + now.status;
        card.dataset.status = now.status;
      };
      if (t.rateable && rate) body.appendChild(ticketRating(t, rate, rated));
    } else {
      body.appendChild(el("div", "ticket-line", "请记下编号，之后可凭编号和手机号码查询办理进度。"));
    }
    const copy = el("button", "copy-btn", "复制编号");
    copy.type = "button";
    copy.addEventListener("click", () => {
      const done = () => { copy.textContent = "已复制"; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(t.number).then(done, () => {});
      else {
        const range = document.createRange();
        range.selectNodeContents(body.querySelector(".ticket-number"));
        const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
        try { document.execCommand("copy"); done(); } catch (e) { /* the number stays selected */ }
      }
    });
    body.appendChild(copy);
    card.appendChild(body);
    stack.appendChild(card);
  }

  return { el, safeUrl, link, renderChecklist, renderTicket };
})();
