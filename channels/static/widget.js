/* Embeds the 政务服务智能助手 on any site with one tag:
     <script src="https://<gateway>/widget.js" defer></script>
   A floating button opens the chat page in an iframe served by the gateway (same origin as its API),
   so the host page needs no other file and shares no cookies or styles with the chat. */
(function () {
  "use strict";
  if (window.__banshiWidget) return;
  window.__banshiWidget = true;

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const origin = script ? new URL(script.src, location.href).origin : location.origin;
  const PREFIX = "banshi-widget";
  const RED = "#c8102e";

  const style = document.createElement("style");
  style.textContent =
    "." + PREFIX + "-btn{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:60px;height:60px;" +
    "border-radius:50%;border:0;background:" + RED + ";color:#fff;font:600 15px/1.1 sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;text-align:center}" +
    "." + PREFIX + "-btn:focus-visible{outline:3px solid #fbbf24;outline-offset:2px}" +
    "." + PREFIX + "-panel{position:fixed;right:20px;bottom:92px;z-index:2147483647;width:380px;height:620px;" +
    "max-height:calc(100vh - 112px);border:0;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);" +
    "background:#fff;display:none}" +
    "." + PREFIX + "-panel.open{display:block}" +
    "@media (max-width:480px){." + PREFIX + "-panel{right:0;bottom:0;width:100vw;height:100vh;height:100dvh;" +
    "max-height:none;border-radius:0}." + PREFIX + "-open ." + PREFIX + "-btn{display:none}}";
  document.head.appendChild(style);

  const button = document.createElement("button");
  button.type = "button";
  button.className = PREFIX + "-btn";
  button.setAttribute("aria-label", "打开政务服务智能助手");
  button.setAttribute("aria-expanded", "false");
  button.textContent = "在线\n咨询";
  button.style.whiteSpace = "pre";

  let frame = null;
  function toggle(open) {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.className = PREFIX + "-panel";
      frame.title = "政务服务智能助手";
      frame.src = origin + "/?embed=1&channel=widget";
      frame.allow = "clipboard-write";
      document.body.appendChild(frame);
    }
    if (!frame) return;
    frame.classList.toggle("open", open);
    document.documentElement.classList.toggle(PREFIX + "-open", open);
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "收起" : "在线\n咨询";
  }
  button.addEventListener("click", () => toggle(!(frame && frame.classList.contains("open"))));
  window.addEventListener("message", (ev) => {
    if (ev.origin === origin && ev.data && ev.data.type === "banshi-chat-close") toggle(false);
  });

  function mount() { document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
