// 关怀模式 (elder mode, 适老化): larger type, higher contrast, bigger targets, fewer words per reply, and
// the bot's replies read aloud where the browser offers speech. The choice is kept on this device.
// It only listens to chat.js's "banshi:message" event, so the chat works the same with it off.
"use strict";

(() => {
  const KEY = "banshi.care";
  const FOLD_AT = 90; // characters of a bot reply shown before 展开全文 in elder mode
  const root = document.documentElement;
  const canSpeak = "speechSynthesis" in window && typeof SpeechSynthesisUtterance === "function";

  function on() { return root.dataset.care === "1"; }

  function speak(text) {
    if (!canSpeak || !text) return;
    window.speechSynthesis.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function fold(bubble) {
    const full = bubble.textContent;
    if (full.length <= FOLD_AT || bubble.dataset.folded) return;
    bubble.dataset.folded = "1";
    bubble.textContent = full.slice(0, FOLD_AT) + "…";
    const more = document.createElement("button");
    more.type = "button";
    more.className = "more-btn";
    more.textContent = "展开全文";
    more.addEventListener("click", () => { bubble.textContent = full; more.remove(); });
    bubble.after(more);
  }

  function readButton(text) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "read-btn";
    button.textContent = "朗读";
    button.setAttribute("aria-label", "朗读这条回复");
    button.addEventListener("click", () => speak(text));
    return button;
  }

  function decorate(node, message) {
    if (!on() || (message.sender !== "bot" && message.sender !== "agent")) return;
    const bubble = node.querySelector(".bubble");
    const text = message.text || (bubble && bubble.textContent) || "";
    if (bubble && message.kind !== "checklist") fold(bubble);
    if (canSpeak && text) {
      node.appendChild(readButton(text));
      speak(text);
    }
  }

  function apply(enabled) {
    if (enabled) root.dataset.care = "1"; else delete root.dataset.care;
    const button = document.getElementById("care-btn");
    if (button) {
      button.setAttribute("aria-pressed", String(enabled));
      button.textContent = enabled ? "标准模式" : "关怀模式";
    }
    if (!enabled && canSpeak) window.speechSynthesis.cancel();
  }

  const remembered = () => { try { return localStorage.getItem(KEY) === "1"; } catch (e) { return false; } };
  apply(remembered());
  document.addEventListener("banshi:message", (e) => decorate(e.detail.node, e.detail.message));
  document.addEventListener("DOMContentLoaded", () => {
    apply(on());
    document.getElementById("care-btn").addEventListener("click", () => {
      const enabled = !on();
      try { localStorage.setItem(KEY, enabled ? "1" : "0"); } catch (e) { /* not remembered */ }
      apply(enabled);
    });
  });
})();
