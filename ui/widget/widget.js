/* Ask Meridian: the advisor's chat on any web page, from one tag:
 *   <script src="https://ADVISOR/widget.js" data-title="Ask Meridian" defer></script>
 * Optional: data-starters="Question one|Question two", data-position="left".
 * Dependency-free; everything lives in a shadow root with a constructed stylesheet, so the page's CSS
 * cannot reach in, ours cannot leak out, and a strict page CSP needs only the advisor's origin in script-src and
 * connect-src (no inline script or style is used). It talks to the advisor's public API without a key: public
 * sources only, whatever the page does. */
(() => {
  "use strict";
  const CONFIG = /*CONFIG*/{};
  const script = document.currentScript;
  if (!script || window.__askMeridian) return;
  window.__askMeridian = true;
  const api = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const title = data.title || CONFIG.title || "Ask us";
  const starters = data.starters ? data.starters.split("|").filter(Boolean) : (CONFIG.starters || []);

  const CSS = `
:host { all: initial; }
[hidden] { display: none !important; }
* { box-sizing: border-box; font: inherit; color: inherit; }
.root { font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; color: #14213d;
  position: fixed; z-index: 2147483000; bottom: 20px; right: 20px; }
.root.left { right: auto; left: 20px; }
button { cursor: pointer; border: 0; background: none; padding: 0; }
button:focus-visible, textarea:focus-visible, input:focus-visible, a:focus-visible {
  outline: 3px solid #f2a900; outline-offset: 2px; }
.launch { display: flex; align-items: center; gap: 8px; background: #14213d; color: #fff; border-radius: 28px;
  padding: 12px 18px; font-weight: 600; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launch svg { width: 20px; height: 20px; fill: currentColor; }
.panel { display: none; flex-direction: column; width: 380px; height: min(620px, calc(100vh - 110px));
  background: #fff; border-radius: 12px; box-shadow: 0 10px 40px rgba(0,0,0,.3); overflow: hidden;
  margin-bottom: 12px; transition: opacity .15s ease; }
.open .panel { display: flex; }
.head { display: flex; align-items: center; justify-content: space-between; background: #14213d; color: #fff;
  padding: 12px 14px; }
.head h2 { margin: 0; font-size: 16px; font-weight: 600; }
.head button { color: #fff; font-size: 22px; line-height: 1; width: 32px; height: 32px; border-radius: 6px; }
.log { flex: 1; overflow-y: auto; padding: 12px 14px; display: flex; flex-direction: column; gap: 10px; }
.msg { max-width: 92%; padding: 9px 12px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
.user { align-self: flex-end; background: #e8eef9; }
.bot { align-self: flex-start; background: #f4f5f7; }
.bot.error { background: #fdecea; color: #8a1c12; }
.cite { color: #0b6e6e; font-weight: 700; text-decoration: underline; padding: 0 1px; }
.note { font-size: 12.5px; color: #5a6275; margin-top: 6px; }
.rate { display: flex; gap: 6px; margin-top: 6px; align-items: center; font-size: 12.5px; color: #5a6275; }
.rate button { border: 1px solid #c9cfdb; border-radius: 6px; padding: 3px 7px; color: #14213d; background: #fff;
  display: inline-flex; }
.rate svg { width: 15px; height: 15px; fill: currentColor; }
.rate button[aria-pressed="true"] { background: #0b6e6e; color: #fff; border-color: #0b6e6e; }
.starters { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 14px 10px; }
.starters button { border: 1px solid #0b6e6e; color: #0b6e6e; border-radius: 16px; padding: 5px 10px;
  font-size: 13px; text-align: left; background: #fff; }
.source { border-top: 1px solid #e3e6ec; padding: 10px 14px; font-size: 13.5px; background: #fafbfc;
  max-height: 40%; overflow-y: auto; }
.source h3 { margin: 0 0 4px; font-size: 14px; font-weight: 700; }
.source blockquote { margin: 6px 0; padding-left: 10px; border-left: 3px solid #0b6e6e; }
.source a { color: #0b6e6e; }
.form { display: flex; gap: 8px; padding: 10px 14px; border-top: 1px solid #e3e6ec; }
textarea, input[type=text], input[type=email] { border: 1px solid #c9cfdb; border-radius: 8px; padding: 8px 10px;
  background: #fff; width: 100%; }
textarea { flex: 1; resize: none; height: 42px; }
.send { background: #0b6e6e; color: #fff; border-radius: 8px; padding: 0 14px; font-weight: 600; }
.send[disabled] { opacity: .5; cursor: default; }
.foot { display: flex; justify-content: space-between; padding: 0 14px 10px; font-size: 12.5px; }
.foot button { color: #0b6e6e; text-decoration: underline; }
.contact { display: none; flex: 1; overflow-y: auto; flex-direction: column; gap: 8px; padding: 12px 14px;
  border-top: 1px solid #e3e6ec; }
.contact .send { padding: 10px 14px; }
.contacting .contact { display: flex; }
.contacting .log, .contacting .starters, .contacting .source, .contacting .form { display: none !important; }
.contact label { font-size: 13px; display: flex; flex-direction: column; gap: 3px; }
.contact .consent { flex-direction: row; align-items: flex-start; gap: 8px; }
.status { font-size: 13px; color: #0b6e6e; min-height: 1em; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) {
  .root, .root.left { left: 0; right: 0; bottom: 0; }
  .launch { position: fixed; right: 16px; bottom: 16px; }
  .root.left .launch { right: auto; left: 16px; }
  .panel { width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; margin: 0; }
  .open .launch { display: none; }
}
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
`;

  // element helper: text only, never HTML from the network
  const h = (tag, props = {}, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (v !== false && v != null) el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid != null) el.append(kid);
    return el;
  };

  const host = h("div", {"data-ask-meridian": ""});
  document.body.append(host);
  const shadow = host.attachShadow({mode: "open"});
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [sheet];

  const svg = (d, flip) => {  // an icon drawn by the DOM, so no image request and nothing for the CSP to block
    const el = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    el.setAttribute("viewBox", "0 0 24 24");
    el.setAttribute("aria-hidden", "true");
    if (flip) el.setAttribute("transform", "scale(1,-1)");
    const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", d);
    el.append(p);
    return el;
  };
  const BUBBLE = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const THUMB = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 " +
                "6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";
  const icon = svg(BUBBLE);

  const log = h("div", {class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text",
                        "aria-label": "Conversation"});
  const question = h("textarea", {id: "q", rows: "1", maxlength: "2000", "aria-label": "Your question",
                                  placeholder: "Ask about biotech in Asia…"});
  const send = h("button", {class: "send", type: "submit", text: "Ask"});
  const source = h("section", {class: "source", hidden: true, "aria-label": "Source", tabindex: "-1"});
  const status = h("p", {class: "status", role: "status"});
  const fields = {
    name: h("input", {type: "text", autocomplete: "name", required: true, maxlength: "200"}),
    email: h("input", {type: "email", autocomplete: "email", required: true, maxlength: "320"}),
    company: h("input", {type: "text", autocomplete: "organization", maxlength: "200"}),
    message: h("textarea", {maxlength: "4000"}),
    consent: h("input", {type: "checkbox"}),  // checked in submitLead, which says why it is needed
  };
  const contact = h("form", {class: "contact", "aria-label": "Talk to a consultant", onsubmit: submitLead},
    h("label", {}, "Name", fields.name), h("label", {}, "Work email", fields.email),
    h("label", {}, "Company", fields.company), h("label", {}, "What would you like to discuss?", fields.message),
    h("label", {class: "consent"}, fields.consent,
      "I agree that Meridian may store these details to contact me about my question."),
    h("button", {class: "send", type: "submit", text: "Send request"}), status);
  const startersBox = h("div", {class: "starters", role: "group", "aria-label": "Suggested questions"},
    starters.map((s) => h("button", {type: "button", text: s, onclick: () => ask(s)})));
  const closeBtn = h("button", {type: "button", "aria-label": `Close ${title}`, text: "×", onclick: () => toggle(false)});
  const panel = h("div", {class: "panel", id: "panel", role: "dialog", "aria-label": title},
    h("div", {class: "head"}, h("h2", {text: title}), closeBtn),
    log, startersBox, source,
    h("form", {class: "form", onsubmit: (e) => { e.preventDefault(); ask(question.value); }}, question, send),
    h("div", {class: "foot"},
      h("span", {text: "Answers cite public sources."}),
      h("button", {type: "button", text: "Talk to a consultant", "aria-expanded": "false",
                   onclick: (e) => showContact(e.currentTarget)})),
    contact);
  const launch = h("button", {class: "launch", type: "button", "aria-expanded": "false", "aria-controls": "panel",
                              onclick: () => toggle()}, icon, h("span", {text: title}));
  const root = h("div", {class: "root" + (data.position === "left" ? " left" : "")}, panel, launch);
  shadow.append(root);

  let turns = [];          // the conversation so far, for follow-up questions
  let conversationId = null;
  let busy = false;

  function toggle(open = !root.classList.contains("open")) {
    root.classList.toggle("open", open);
    launch.setAttribute("aria-expanded", String(open));
    if (open) question.focus(); else launch.focus();
  }

  function showContact(button) {  // the form takes the chat's place; the same button brings the chat back
    const shown = panel.classList.toggle("contacting");
    button.setAttribute("aria-expanded", String(shown));
    button.textContent = shown ? "Back to the chat" : "Talk to a consultant";
    (shown ? fields.name : question).focus();
  }

  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && root.classList.contains("open")) { e.preventDefault(); toggle(false); }
  });
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ask(question.value); }
  });

  async function post(path, body) {
    const response = await fetch(api + path, {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify(body), credentials: "omit"});
    if (!response.ok) {
      let message = `Something went wrong (${response.status}). Please try again.`;
      try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
      if (response.status === 429) message = "You're asking faster than we can answer: " + message;
      throw new Error(message);
    }
    return response;
  }

  // one bubble's text with its [n] markers as buttons that open the cited passage
  function render(bubble, text, citations) {
    bubble.textContent = "";
    const byN = new Map((citations || []).map((c) => [c.n, c]));
    let last = 0;
    for (const m of text.matchAll(/\[(\d+)\]/g)) {
      bubble.append(text.slice(last, m.index));
      const c = byN.get(Number(m[1]));
      bubble.append(c ? h("button", {type: "button", class: "cite", text: m[0],
                                     "aria-label": `Source ${m[1]}: ${c.title}`, onclick: () => open(c)}) : m[0]);
      last = m.index + m[0].length;
    }
    bubble.append(text.slice(last));
  }

  function open(c) {
    source.textContent = "";
    const meta = [c.published, c.publisher].filter(Boolean).join(" · ");
    source.append(h("h3", {text: c.title}), meta ? h("div", {class: "note", text: meta}) : null,
                  h("blockquote", {text: c.passage}),
                  c.url ? h("a", {href: c.url, target: "_blank", rel: "noopener noreferrer", text: "Read the source"}) : null);
    source.hidden = false;
    source.focus();
  }

  function feedback(answerId) {
    const note = h("span", {text: "Helpful?"});
    const buttons = ["up", "down"].map((rating) => h("button", {type: "button", "aria-pressed": "false",
      "aria-label": rating === "up" ? "Helpful" : "Not helpful",
      onclick: async (e) => {
        const pressed = e.currentTarget;  // gone from the event once it has been dispatched
        try {
          await post("/v1/feedback", {answer_id: answerId, rating});
          buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === pressed)));
          note.textContent = "Thanks for the feedback.";
        } catch (err) { note.textContent = err.message; }
      }}, svg(THUMB, rating === "down")));
    return h("div", {class: "rate"}, note, buttons);
  }

  async function ask(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    send.disabled = true;
    question.value = "";
    startersBox.hidden = true;
    log.append(h("div", {class: "msg user", text}));
    const bubble = h("div", {class: "msg bot", "aria-busy": "true", text: "Reading our sources…"});
    log.append(bubble);
    log.scrollTop = log.scrollHeight;
    let streamed = "";
    try {
      const response = await post("/v1/ask/stream", {question: text, history: turns.slice(-10),
                                                      ...(conversationId ? {conversation_id: conversationId} : {})});
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = (frame.match(/^event: (.*)$/m) || [])[1];
          const payload = (frame.match(/^data: (.*)$/m) || [])[1];
          if (!event || payload === undefined) continue;
          const value = JSON.parse(payload);
          if (event === "delta") { streamed += value; bubble.textContent = streamed; }
          if (event === "answer") {
            render(bubble, value.text, value.citations);
            bubble.removeAttribute("aria-busy");
            conversationId = value.conversation_id || conversationId;
            turns.push({role: "user", content: text}, {role: "assistant", content: value.text});
            if (value.answer_id) bubble.append(feedback(value.answer_id));
          }
        }
        log.scrollTop = log.scrollHeight;
      }
    } catch (err) {
      bubble.classList.add("error");
      bubble.removeAttribute("aria-busy");
      bubble.textContent = err.message || "We couldn't reach the advisor. Please try again.";
      question.value = text;
    } finally {
      busy = false;
      send.disabled = false;
      question.focus();
    }
  }

  async function submitLead(e) {
    e.preventDefault();
    if (!fields.consent.checked) { status.textContent = "Please tick the consent box so we may store your details."; return; }
    try {
      await post("/v1/leads", {name: fields.name.value, email: fields.email.value, company: fields.company.value,
                               message: fields.message.value, consent: true, conversation_id: conversationId || ""});
      status.textContent = "Thank you. A consultant will be in touch.";
      contact.reset();
    } catch (err) { status.textContent = err.message; }
  }
})();
