// 命中测试: what the assistant would do with a question (NLU, ranked matters with every retriever's
// score, the threshold verdict, the dialogue's decision), the history of tests, and saved test sets
// re-run after changes with regressions in red. #/hittest/q/<question> opens the page and tests it.
"use strict";

(() => {
  const { h, api, act, query, view, localTime } = Studio;
  const DECISIONS = {
    present: "直接给出办事指南",
    clarify: "列出几个事项请市民选择",
    ask_region: "询问市民在哪里办理",
    none: "未找到可信答案",
    out_of_scope: "已判定超出范围",
  };
  const HISTORY_SIZE = 20;
  const state = { question: "", region: "", drafts: false, historyPage: 0, mine: false };

  const num = (value, digits) => (value === null || value === undefined ? "—" : Number(value).toFixed(digits));
  const percent = (value) => (value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`);
  const decisionPill = (kind) => h("span", { class: `pill decision ${kind === "none" || kind === "out_of_scope" ? "bad" : "ok"}`, "data-decision": kind },
    DECISIONS[kind] || kind);

  // ---------- one question ----------

  function nluPart(nlu) {
    if (!nlu.available) return h("p", { class: "error", id: "ht-nlu" }, nlu.error || "NLU 服务暂时无法连接");
    const ranking = nlu.intent_ranking.slice(1, 4).map((r) => `${r.name} ${percent(r.confidence)}`).join("，");
    return h("div", { id: "ht-nlu" },
      h("div", { class: "row" },
        h("span", { class: "muted" }, "意图"), h("strong", { class: "mono", id: "ht-intent" }, nlu.intent || "（无）"),
        h("span", {}, `置信度 ${percent(nlu.intent_confidence)}`),
        ranking ? h("span", { class: "muted" }, `其次：${ranking}`) : null),
      nlu.entities.length
        ? h("table", { class: "grid compact", id: "ht-entities" },
          h("thead", {}, h("tr", {}, ["实体", "值", "识别来源"].map((t) => h("th", {}, t)))),
          h("tbody", {}, nlu.entities.map((e) => h("tr", {},
            h("td", { class: "mono" }, e.entity), h("td", {}, String(e.value ?? "")),
            h("td", { class: "muted" }, e.extractor || "")))))
        : h("p", { class: "muted" }, "未识别出实体"));
  }

  function resultPart(result) {
    const shown = new Set(result.decision.external_ids);
    const verdict = result.confident
      ? h("span", { class: "pill ok", id: "ht-verdict", "data-confident": "1" }, "达到阈值")
      : h("span", { class: "pill bad", id: "ht-verdict", "data-confident": "0" }, "低于阈值");
    const decision = result.decision;
    return h("div", { id: "ht-result", "data-test-id": result.id },
      h("h2", {}, `“${result.question}”`, result.drafts ? h("span", { class: "pill draft" }, "含草稿预览") : null),
      nluPart(result.nlu),
      h("div", { class: "row verdict" },
        h("span", { class: "muted" }, "置信度"), h("strong", { id: "ht-confidence" }, num(result.confidence, 2)),
        h("span", { class: "muted" }, `阈值 ${num(result.threshold, 2)}`), verdict),
      h("div", { class: "row" },
        h("span", { class: "muted" }, "对话的处理"), decisionPill(decision.kind),
        h("span", { id: "ht-decision" }, decision.elsewhere ? `${decision.label}（${decision.region}无此事项，给出其他地区的）` : decision.label),
        decision.named ? h("span", { class: "muted" }, `（市民提到的事项：${decision.named}）`) : null,
        decision.region ? h("span", { class: "muted" }, `（地区：${decision.region}）`) : null),
      decision.faq ? h("div", { class: "row", id: "ht-faq" },
        h("span", { class: "pill ok" }, "常见问题作答"),
        h("span", {}, `会先用常见问题“${decision.faq.question}”的答复作答（出自《${decision.faq.matter_name}》，相似度 ${num(decision.faq.similarity, 2)}），再提供办事指南按钮`),
        h("a", { href: `#/faqs/matter/${encodeURIComponent(decision.faq.matter_external_id)}` }, "查看常见问题")) : null,
      result.hits.length
        ? h("table", { class: "grid", id: "ht-hits" },
          h("thead", {}, h("tr", {}, ["#", "事项", "编号", "实施部门", "地区", "融合分", "BM25", "向量"].map((t) => h("th", {}, t)))),
          h("tbody", {}, result.hits.map((hit) => h("tr", {
            "data-id": hit.external_id, class: shown.has(hit.external_id) ? "shown" : null,
            title: shown.has(hit.external_id) ? "对话会向市民给出这一项" : null,
          },
          h("td", {}, hit.rank),
          h("td", {}, h("a", { href: `#/matters/${encodeURIComponent(hit.external_id)}` }, hit.name),
            hit.parent_name ? h("div", { class: "muted" }, `所属：${hit.parent_name}`) : null,
            hit.draft ? h("span", { class: "pill draft" }, "草稿") : null,
            shown.has(hit.external_id) ? h("span", { class: "pill ok" }, "会给出") : null),
          h("td", { class: "mono" }, hit.external_id), h("td", {}, hit.department), h("td", {}, hit.region),
          h("td", { class: "num" }, num(hit.score, 4)), h("td", { class: "num" }, num(hit.bm25, 2)),
          h("td", { class: "num" }, num(hit.dense, 3))))))
        : h("p", { class: "muted", id: "ht-hits-empty" }, "没有检索到任何事项"));
  }

  function testForm(out, reloadHistory) {
    const question = h("input", { id: "ht-question", value: state.question, placeholder: "输入市民可能的问法，例如：身份证丢了怎么补办",
      "aria-label": "测试问题", maxlength: 500, style: "flex:1;min-width:320px" });
    const region = h("input", { id: "ht-region", value: state.region, placeholder: "地区（可选）", "aria-label": "地区", style: "width:140px" });
    const drafts = h("input", { id: "ht-drafts", type: "checkbox", checked: state.drafts });
    const error = h("p", { class: "error", id: "ht-error" });
    const submit = h("button", { type: "submit", class: "primary", id: "ht-submit" }, "测试");
    const form = h("form", { id: "ht-form", onsubmit: async (event) => {
      event.preventDefault();
      state.question = question.value.trim();
      state.region = region.value.trim();
      state.drafts = drafts.checked;
      error.textContent = "";
      question.classList.remove("invalid");
      if (!state.question) { error.textContent = "请输入要测试的问题"; question.classList.add("invalid"); return; }
      submit.disabled = true;
      out.replaceChildren(h("p", { class: "muted" }, "测试中…"));
      try {
        const result = await api("/api/v1/hittest", {
          method: "POST", body: { question: state.question, drafts: state.drafts, region: state.region || null },
        });
        out.replaceChildren(resultPart(result));
        reloadHistory();
      } catch (e) {
        out.replaceChildren();
        error.textContent = e.message;
      } finally {
        submit.disabled = false;
      }
    } },
    h("div", { class: "row" }, question, region,
      h("label", { class: "check" }, drafts, " 含草稿（按发布后的样子测试）"), submit),
    error);
    return { form, question, run: () => form.requestSubmit() };
  }

  // ---------- history ----------

  function historyPart(onPick) {
    const box = h("div", { id: "ht-history" });
    const reload = async () => {
      const data = await api(`/api/v1/hittest/history${query({ limit: HISTORY_SIZE, offset: state.historyPage * HISTORY_SIZE, mine: state.mine || "" })}`);
      const pages = Math.max(1, Math.ceil(data.total / HISTORY_SIZE));
      box.replaceChildren(
        h("div", { class: "row" },
          h("label", { class: "check" }, h("input", { type: "checkbox", checked: state.mine, onchange: (e) => {
            state.mine = e.target.checked; state.historyPage = 0; act(reload);
          } }), " 只看我的"),
          h("span", { class: "muted" }, `共 ${data.total} 次测试`), h("span", { class: "spacer" }),
          h("button", { type: "button", disabled: state.historyPage <= 0, onclick: () => { state.historyPage -= 1; act(reload); } }, "上一页"),
          h("span", {}, `第 ${state.historyPage + 1} / ${pages} 页`),
          h("button", { type: "button", disabled: state.historyPage + 1 >= pages, onclick: () => { state.historyPage += 1; act(reload); } }, "下一页")),
        data.items.length
          ? h("table", { class: "grid" },
            h("thead", {}, h("tr", {}, ["时间", "问题", "测试人", "首位结果", "置信度", "处理", "意图"].map((t) => h("th", {}, t)))),
            h("tbody", {}, data.items.map((item) => h("tr", { class: "clickable", title: "点击再测一次", "data-id": item.id,
              onclick: () => onPick(item) },
            h("td", { class: "nowrap" }, localTime(item.created_at)),
            h("td", {}, item.question, item.drafts ? h("span", { class: "pill draft" }, "含草稿") : null),
            h("td", {}, item.author),
            h("td", {}, item.top_name || h("span", { class: "muted" }, "无"),
              item.top_external_id ? h("div", { class: "mono muted" }, item.top_external_id) : null),
            h("td", { class: "num" }, num(item.confidence, 2)),
            h("td", {}, decisionPill(item.decision)),
            h("td", { class: "mono" }, item.intent || "—")))))
          : h("p", { class: "muted" }, "还没有测试记录"));
      box.items = data.items;
    };
    return { box, reload };
  }

  // ---------- saved sets ----------

  function parseQuestions(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const [question, expected] = line.split(/\s*[|｜\t]\s*/);
      return { question: question.trim(), expected_external_id: expected ? expected.trim() : null };
    });
  }

  function runPart(run) {
    const ok = run.regressions === 0;
    return h("div", { id: "ht-run", "data-run-id": run.id },
      h("h2", {}, `测试集《${run.set_name}》运行结果`),
      h("div", { class: "row" },
        h("span", { class: "muted" }, `${localTime(run.created_at)} · ${run.author}`),
        run.drafts ? h("span", { class: "pill draft" }, "含草稿") : null,
        h("span", {}, `共 ${run.total} 个问题`),
        h("span", { class: `pill ${ok ? "ok" : "bad"}`, id: "ht-run-summary" },
          ok ? "没有回归" : `${run.regressions} 个回归`),
        run.previous_run_id ? h("span", { class: "muted" }, "与上一次运行比较") : h("span", { class: "muted" }, "首次运行，之后的运行会与它比较")),
      h("table", { class: "grid", id: "ht-run-table" },
        h("thead", {}, h("tr", {}, ["问题", "预期事项", "首位结果", "上次首位", "置信度", "处理", "结论"].map((t) => h("th", {}, t)))),
        h("tbody", {}, run.results.map((r) => h("tr", { class: r.regression ? "regression" : null, "data-regression": r.regression ? "1" : "0" },
          h("td", {}, r.question),
          h("td", { class: "mono" }, r.expected_external_id || h("span", { class: "muted" }, "—"),
            r.expected_found === true ? h("span", { class: "pill ok" }, "找到") : null,
            r.expected_found === false ? h("span", { class: "pill bad" }, "未找到") : null),
          h("td", {}, r.top_name || h("span", { class: "muted" }, "无"),
            r.top_external_id ? h("div", { class: "mono muted" }, r.top_external_id) : null),
          h("td", { class: "mono" }, run.previous_run_id ? (r.previous_top_external_id || "无") : "—",
            r.top_changed ? h("span", { class: "pill draft" }, "已变化") : null),
          h("td", { class: "num" }, num(r.confidence, 2)),
          h("td", {}, decisionPill(r.decision)),
          h("td", {}, r.reasons.length ? r.reasons.join("；") : h("span", { class: "muted" }, "正常")))))));
  }

  function setsPart(history) {
    const list = h("div", { id: "ht-sets" });
    const runBox = h("div");
    const name = h("input", { id: "set-name", placeholder: "例如：身份证类问法", "aria-label": "测试集名称", maxlength: 100 });
    const lines = h("textarea", { id: "set-questions", rows: 5, "aria-label": "测试问题",
      placeholder: "每行一个问题；可在竖线后写预期事项编号，例如：\n身份证丢了怎么补 | bs-sfz-bl" });
    const nameError = h("span", { class: "field-error" });
    const linesError = h("span", { class: "field-error" });

    const showRun = (run) => { runBox.replaceChildren(runPart(run)); runBox.scrollIntoView({ block: "nearest" }); };
    const reload = async () => {
      const sets = await api("/api/v1/hittest/sets");
      list.replaceChildren(sets.length
        ? h("table", { class: "grid" },
          h("thead", {}, h("tr", {}, ["名称", "问题数", "创建", "运行次数", ""].map((t) => h("th", {}, t)))),
          h("tbody", {}, sets.map((s) => h("tr", { "data-set": s.name, "data-id": s.id },
            h("td", {}, h("strong", {}, s.name)),
            h("td", {}, s.questions.length),
            h("td", { class: "muted" }, `${s.author} · ${localTime(s.created_at)}`),
            h("td", {}, s.runs),
            h("td", { class: "actions" },
              h("button", { type: "button", class: "primary", "data-action": "run", onclick: (e) => runSet(e.target, s, false) }, "运行"),
              h("button", { type: "button", "data-action": "run-drafts", onclick: (e) => runSet(e.target, s, true) }, "含草稿运行"),
              s.last_run_id ? h("button", { type: "button", class: "link", "data-action": "last",
                onclick: () => act(async () => showRun(await api(`/api/v1/hittest/sets/${s.id}/runs/${s.last_run_id}`))) }, "上次结果") : null,
              h("button", { type: "button", class: "link", "data-action": "edit", onclick: () => edit(s) }, "编辑"),
              h("button", { type: "button", class: "link", "data-action": "delete", onclick: () => remove(s) }, "删除"))))))
        : h("p", { class: "muted" }, "还没有测试集"));
    };
    let editing = null; // the set being edited in the form, or null for a new one
    const submit = h("button", { type: "submit", class: "primary" }, "保存测试集");
    const cancel = h("button", { type: "button", hidden: true, onclick: () => edit(null) }, "取消编辑");
    function edit(item) {
      editing = item;
      name.value = item ? item.name : "";
      lines.value = item ? item.questions.map((q) => (q.expected_external_id ? `${q.question} | ${q.expected_external_id}` : q.question)).join("\n") : "";
      submit.textContent = item ? `保存对《${item.name}》的修改` : "保存测试集";
      cancel.hidden = !item;
      if (item) name.scrollIntoView({ block: "center" });
    }
    async function remove(item) {
      if (!confirm(`删除测试集《${item.name}》及其全部运行记录？`)) return;
      const done = await act(async () => { await api(`/api/v1/hittest/sets/${item.id}`, { method: "DELETE" }); return true; });
      if (done) { if (editing?.id === item.id) edit(null); runBox.replaceChildren(); Studio.toast(`已删除测试集《${item.name}》`); await act(reload); }
    }
    async function runSet(button, item, drafts) {
      button.disabled = true;
      const old = button.textContent;
      button.textContent = "运行中…";
      try {
        const run = await act(() => api(`/api/v1/hittest/sets/${item.id}/run`, { method: "POST", body: { drafts } }));
        if (run) { showRun(run); await act(reload); }
      } finally {
        button.disabled = false;
        button.textContent = old;
      }
    }
    const create = async (event) => {
      event.preventDefault();
      nameError.textContent = linesError.textContent = "";
      name.classList.remove("invalid");
      lines.classList.remove("invalid");
      const questions = parseQuestions(lines.value);
      if (!name.value.trim()) { nameError.textContent = "请填写测试集名称"; name.classList.add("invalid"); }
      if (!questions.length) { linesError.textContent = "请至少填写一个问题"; lines.classList.add("invalid"); }
      if (!name.value.trim() || !questions.length) return;
      try {
        const body = { name: name.value.trim(), questions };
        if (editing) await api(`/api/v1/hittest/sets/${editing.id}`, { method: "PUT", body });
        else await api("/api/v1/hittest/sets", { method: "POST", body });
        Studio.toast(`已保存测试集《${body.name}》`);
        edit(null);
        await reload();
      } catch (e) {
        if (e.status === 409) { nameError.textContent = e.message; name.classList.add("invalid"); return; }
        const details = Array.isArray(e.data?.detail) ? e.data.detail : [];
        const msgs = details.map((d) => {
          const loc = d.loc || [];
          const at = loc.indexOf("questions");
          if (at >= 0 && Number.isInteger(loc[at + 1])) return `第 ${loc[at + 1] + 1} 个问题：${d.msg.split("、").pop()}`;
          return d.msg;
        });
        if (details.some((d) => (d.loc || []).includes("name"))) { name.classList.add("invalid"); nameError.textContent = "名称不正确（1–100 个字符）"; }
        linesError.textContent = msgs.filter((m) => m.startsWith("第 ")).join("；") || (nameError.textContent ? "" : e.message);
        if (linesError.textContent) lines.classList.add("invalid");
      }
    };
    const form = h("form", { id: "set-form", onsubmit: create },
      h("div", { class: "form-grid" },
        h("label", { for: "set-name" }, "测试集名称"), h("div", {}, name, nameError),
        h("label", { for: "set-questions" }, "问题"), h("div", {}, lines, linesError,
          h("div", { class: "row" },
            h("button", { type: "button", id: "set-from-history", onclick: () => {
              const seen = new Set(parseQuestions(lines.value).map((q) => q.question));
              const add = (history.box.items || []).map((i) => i.question).filter((q) => !seen.has(q) && seen.add(q));
              lines.value = [lines.value.trim(), ...add].filter(Boolean).join("\n");
            } }, "填入本页历史中的问题"),
            h("span", { class: "spacer" }), cancel, submit))));
    return { el: h("div", {}, form, h("h2", {}, "已保存的测试集"), list, runBox), reload };
  }

  view("hittest", async (root, mode, arg) => {
    const out = h("div", { id: "ht-out" });
    const history = historyPart((item) => {
      tester.question.value = item.question;
      state.drafts = item.drafts;
      root.querySelector("#ht-drafts").checked = item.drafts;
      window.scrollTo({ top: 0 });
      tester.run();
    });
    const tester = testForm(out, () => act(history.reload));
    const sets = setsPart(history);
    root.replaceChildren(
      h("h1", {}, "命中测试"),
      h("section", { class: "card" },
        h("p", { class: "muted" }, "输入一个问题，查看智能助手会怎么处理：意图识别、各检索方式的得分、是否达到置信度阈值，以及对话会给出什么。勾选“含草稿”可在发布前预览修改的效果，市民看到的内容不受影响。"),
        tester.form, out),
      h("section", { class: "card" }, h("h2", {}, "测试历史"), history.box),
      h("section", { class: "card" }, h("h2", {}, "测试集"),
        h("p", { class: "muted" }, "保存一组问题，修改事项后重新运行：首位结果变化、找不到预期事项或不再能回答的问题会标红。"),
        sets.el));
    await Promise.all([history.reload(), sets.reload()]);
    if (mode === "q" && arg) {
      tester.question.value = arg;
      tester.run();
    }
  });
})();
