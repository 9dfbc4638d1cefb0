// 未解决问题: the questions the assistant could not answer, grouped by meaning, most frequent first (phone
// and ID numbers arrive masked from the API). Each group can be attached to a matter as aliases, turned
// into an FAQ entry, marked out of scope (the assistant then offers the hotline), or become a new matter
// draft. After an action the group's card says truthfully what happened and whether citizens see it yet.
"use strict";

(() => {
  const { h, api, act, view, localTime, go } = Studio;
  const ACTIONS = {
    alias: "加为事项别名",
    faq: "加为常见问题",
    out_of_scope: "不属于办事范围",
    new_matter: "新建事项草稿",
  };

  const post = (group, body) => api(`/api/v1/unanswered/groups/${group.id}/actions`, { method: "POST", body });
  const matterLink = (id, text) => h("a", { href: `#/matters/${encodeURIComponent(id)}` }, text);
  const testLink = (question) => h("a", { href: `#/hittest/q/${encodeURIComponent(question)}`, class: "hittest-link" }, "用命中测试验证");

  // Runs the action and reports field errors under the form's fields; returns the answer or null.
  async function submit(form, rows, group, body) {
    for (const [, wrap] of Object.values(rows)) wrap.setError("");
    const error = form.querySelector(".form-error");
    error.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      return await post(group, body);
    } catch (e) {
      const { fields, rest } = Studio.fieldErrors(e);
      for (const [name, msg] of Object.entries(fields)) {
        if (rows[name]) rows[name][1].setError(msg); else rest.push(msg);
      }
      error.textContent = rest.join("；");
      return null;
    } finally {
      button.disabled = false;
    }
  }

  function actionForm(title, rows, onsubmit, submitText) {
    const form = h("form", { class: "action-form", onsubmit: (event) => { event.preventDefault(); onsubmit(form); } },
      h("h3", {}, title),
      h("div", { class: "form-grid" }, ...Object.values(rows).flat()),
      h("p", { class: "error form-error" }),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, submitText)));
    return form;
  }

  // The distinct questions of a group, representative first, for choosing aliases.
  function distinct(group) {
    return [...new Set([group.representative, ...group.questions.map((q) => q.question)])];
  }

  // ---------- the four actions ----------

  function aliasForm(group, finish) {
    const picker = Studio.matterPicker();
    const boxes = distinct(group).map((text, i) => h("label", { class: "check block" },
      h("input", { type: "checkbox", value: text, checked: i === 0, name: "alias" }), ` ${text}`,
      text.includes("*") ? h("span", { class: "muted" }, "（含打码号码，不宜作别名）") : null));
    const rows = {
      external_id: Studio.formField("external_id", "加到哪个事项", picker.el),
      aliases: Studio.formField("aliases", "作为别名的问法", h("div", { class: "alias-choices" }, boxes), "市民再这样问，就会找到这个事项"),
    };
    return actionForm("加为事项别名", rows, async (form) => {
      const aliases = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      if (!picker.value) { rows.external_id[1].setError("请搜索并选择一个事项"); return; }
      if (!aliases.length) { rows.aliases[1].setError("请至少选择一个问法"); return; }
      const done = await submit(form, rows, group, { action: "alias", external_id: picker.value, aliases });
      if (done) finish(await aliasOutcome(done, picker.matter, aliases, group));
    }, "确认加为别名");
  }

  // What adding aliases did, as the API says: live at once on a published matter, or only in a draft.
  async function aliasOutcome(done, picked, aliases, group) {
    const detail = await api(`/api/v1/matters/${encodeURIComponent(done.external_id)}`).catch(() => null);
    const name = detail?.draft?.matter?.name || detail?.live?.name || picked?.name || done.external_id;
    const said = aliases.map((a) => `“${a}”`).join("、");
    if (done.published) {
      const pending = detail && detail.latest_version > (detail.published_version || 0);
      return h("div", {},
        h("p", {}, `已把 ${said} 作为别名加入《`, matterLink(done.external_id, name), "》并已发布：市民下次这样问，就会得到这个事项的办事指南。"),
        pending ? h("p", { class: "muted" }, `该事项另有未发布的草稿 v${detail.latest_version}，别名也已加进草稿，发布草稿时不会丢失。`) : null,
        h("p", {}, testLink(group.representative)));
    }
    const version = detail?.latest_version;
    const status = h("p", {}, `已把 ${said} 作为别名加入《`, matterLink(done.external_id, name),
      `》的草稿${version ? ` v${version}` : ""}。该事项尚未发布，市民还看不到，发布后生效。`);
    const publish = h("button", { type: "button", class: "primary", "data-action": "publish", onclick: async () => {
      publish.disabled = true;
      const saved = await act(() => api(`/api/v1/matters/${encodeURIComponent(done.external_id)}/publish`, { method: "POST", body: { version } }));
      if (saved) {
        status.replaceWith(h("p", {}, `已发布《`, matterLink(done.external_id, name), `》v${saved.published_version ?? saved.version}：市民下次这样问，就会得到这个事项的办事指南。`));
        publish.remove();
      } else {
        publish.disabled = false;
      }
    } }, `发布 v${version ?? ""}`);
    return h("div", {}, status, version ? h("div", { class: "row" }, publish, h("a", { href: `#/matters/${encodeURIComponent(done.external_id)}` }, "先打开事项检查")) : null);
  }

  function faqForm(group, finish) {
    const picker = Studio.matterPicker();
    const question = h("input", { name: "question", value: group.representative, maxlength: 300 });
    const answer = h("textarea", { name: "answer", rows: 3, maxlength: 5000, placeholder: "给市民的答复，例如：需要办理……，可在……办理" });
    const rows = {
      question: Studio.formField("question", "问题", question),
      answer: Studio.formField("answer", "答复", answer),
      external_id: Studio.formField("external_id", "答复引用的事项", picker.el),
    };
    return actionForm("加为常见问题", rows, async (form) => {
      let bad = false;
      if (question.value.trim().length < 2) { rows.question[1].setError("至少需要 2 个字符"); bad = true; }
      if (!answer.value.trim()) { rows.answer[1].setError("请填写答复"); bad = true; }
      if (!picker.value) { rows.external_id[1].setError("请搜索并选择一个事项"); bad = true; }
      if (bad) return;
      const done = await submit(form, rows, group,
        { action: "faq", external_id: picker.value, answer: answer.value.trim(), question: question.value.trim() });
      if (!done) return;
      const name = picker.matter?.name || done.external_id;
      const live = picker.matter?.status === "published";
      finish(h("div", {},
        h("p", {}, `已加为常见问题“${question.value.trim()}”，引用《`, matterLink(done.external_id, name), "》。",
          live ? "已发布：市民这样问时会找到该事项。" : "但该事项尚未发布，市民要等事项发布后才能看到。"),
        h("p", {}, h("a", { href: `#/faqs/matter/${encodeURIComponent(done.external_id)}` }, "查看该事项的常见问题"), " · ", testLink(question.value.trim()))));
    }, "确认加为常见问题");
  }

  function outOfScopeForm(group, finish) {
    const note = h("input", { name: "note", maxlength: 500, placeholder: "例如：个人纠纷，不属于政务服务事项" });
    const rows = { note: Studio.formField("note", "原因（可选）", note) };
    return actionForm("标记为不属于办事范围", rows, async (form) => {
      const done = await submit(form, rows, group, { action: "out_of_scope", note: note.value.trim() || null });
      if (done) {
        finish(h("p", {}, `已标记为不属于办事范围（${done.resolved} 个问题）：市民再这样问时，助手不再找办事指南，而是提供 12345 热线。`));
      }
    }, "确认标记");
  }

  function newMatterForm(group, finish) {
    const input = (name, attrs = {}) => h("input", { name, ...attrs });
    const fields = {
      external_id: input("external_id", { maxlength: 100, placeholder: "例如：bs-cb-dj" }),
      name: input("name", { maxlength: 200, placeholder: "事项的正式名称" }),
      department: input("department", { maxlength: 100, placeholder: "实施部门" }),
      city: input("city", { placeholder: "例如：防城港市" }),
      county: input("county", { placeholder: "县（市、区），可不填" }),
      aliases: h("textarea", { name: "aliases", rows: 2 }),
    };
    fields.aliases.value = group.representative;
    const rows = {
      external_id: Studio.formField("external_id", "事项编号", fields.external_id),
      name: Studio.formField("name", "事项名称", fields.name),
      department: Studio.formField("department", "实施部门", fields.department),
      city: Studio.formField("city", "所在市", fields.city),
      county: Studio.formField("county", "所在县（市、区）", fields.county),
      aliases: Studio.formField("aliases", "别名", fields.aliases, "每行一个，默认是本组的问法"),
    };
    return actionForm("新建事项草稿", rows, async (form) => {
      const value = (k) => fields[k].value.trim();
      let bad = false;
      if (!value("external_id")) { rows.external_id[1].setError("请填写事项编号"); bad = true; }
      if (value("name").length < 2) { rows.name[1].setError("至少需要 2 个字符"); bad = true; }
      if (value("department").length < 2) { rows.department[1].setError("至少需要 2 个字符"); bad = true; }
      if (bad) return;
      const matter = {
        external_id: value("external_id"), name: value("name"), department: value("department"),
        city: value("city") || null, county: value("county") || null,
        aliases: value("aliases").split("\n").map((a) => a.trim()).filter(Boolean),
      };
      const done = await submit(form, rows, group, { action: "new_matter", matter });
      if (done) {
        finish(h("div", {},
          h("p", {}, `已新建事项草稿《${matter.name}》v${done.version}。草稿未发布，市民还看不到；请补全办事指南后发布。`),
          h("p", {}, h("button", { type: "button", class: "primary", "data-action": "open-matter",
            onclick: () => go(`#/matters/${encodeURIComponent(done.external_id)}`) }, "打开事项编辑"))));
      }
    }, "新建草稿");
  }

  const FORMS = { alias: aliasForm, faq: faqForm, out_of_scope: outOfScopeForm, new_matter: newMatterForm };

  // ---------- one group ----------

  function groupCard(group) {
    const formBox = h("div", { class: "action-box" });
    const buttons = Object.entries(ACTIONS).map(([action, label]) => h("button", {
      type: "button", "data-action": action, onclick: () => {
        for (const b of buttons) b.classList.toggle("active", b.dataset.action === action);
        formBox.replaceChildren(FORMS[action](group, finish));
        const first = formBox.querySelector("input, textarea");
        if (first) first.focus();
      },
    }, label));
    const card = h("section", { class: "card ua-group", "data-id": group.id, "data-representative": group.representative },
      h("div", { class: "row" },
        h("strong", { class: "representative" }, group.representative),
        h("span", { class: "pill count" }, `${group.count} 次`),
        Object.entries(group.reasons).map(([reason, n]) => h("span", { class: "pill" }, `${group.reason_labels[reason] || reason} ${n}`)),
        h("span", { class: "spacer" }),
        h("span", { class: "muted" }, `最近 ${localTime(group.last_at)}`)),
      h("ul", { class: "examples" }, group.questions.map((q) => h("li", {},
        h("span", {}, q.question),
        h("span", { class: "muted" }, ` · ${group.reason_labels[q.reason] || q.reason} · ${localTime(q.created_at)}`)))),
      group.count > group.questions.length ? h("p", { class: "muted" }, `另有 ${group.count - group.questions.length} 个较早的问题未列出`) : null,
      h("div", { class: "row actions" }, buttons),
      formBox);

    function finish(outcome) {
      card.classList.add("done");
      card.replaceChildren(
        h("div", { class: "row" }, h("strong", { class: "representative" }, group.representative),
          h("span", { class: "pill ok" }, "已处理"), h("span", { class: "muted" }, `${group.count} 个问题`)),
        h("div", { class: "outcome" }, outcome));
    }
    return card;
  }

  view("unanswered", async (root) => {
    const list = h("div", { id: "ua-groups" });
    const reload = async () => {
      const groups = await api("/api/v1/unanswered/groups");
      list.replaceChildren(
        h("p", { class: "muted", id: "ua-total" }, groups.length
          ? `共 ${groups.length} 组，${groups.reduce((n, g) => n + g.count, 0)} 个问题，按出现次数排列`
          : "没有待处理的问题"),
        ...groups.map(groupCard));
    };
    root.replaceChildren(
      h("div", { class: "row" }, h("h1", {}, "未解决问题"), h("span", { class: "spacer" }),
        h("button", { type: "button", id: "ua-reload", onclick: () => act(reload) }, "刷新")),
      h("p", { class: "muted" }, "智能助手没能回答的问题（未找到答案、转人工、选择“都不是”、评价不满意），相近的问法归为一组。电话和证件号码已打码。"),
      list);
    await reload();
  });
})();
