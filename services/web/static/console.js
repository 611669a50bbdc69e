// docflow console: queue navigation, and the document view (word boxes, click-to-fill, actions).
"use strict";

const csrf = () => (document.querySelector('meta[name="csrf"]') || {}).content || "";
const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");

async function call(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data);
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}

// ---- lists: j/k to move, Enter to open
function listKeys() {
  const rows = [...document.querySelectorAll("table#queue tbody tr[data-href]")];
  if (!rows.length) return;
  let at = 0;
  const mark = () => rows.forEach((r, i) => r.classList.toggle("cursor", i === at));
  mark();
  rows.forEach((r, i) => r.addEventListener("click", (e) => { if (e.target.tagName !== "A") location = r.dataset.href; }));
  document.addEventListener("keydown", (e) => {
    if (typing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j") { at = Math.min(rows.length - 1, at + 1); mark(); rows[at].scrollIntoView({block: "nearest"}); }
    else if (e.key === "k") { at = Math.max(0, at - 1); mark(); rows[at].scrollIntoView({block: "nearest"}); }
    else if (e.key === "Enter") { location = rows[at].dataset.href; }
  });
}

// ---- the document view
function documentView(data) {
  const status = document.getElementById("status");
  const say = (text, bad) => { status.textContent = text; status.classList.toggle("bad", !!bad); };
  const inputs = [...document.querySelectorAll("#fields .field input")];
  const original = Object.fromEntries(inputs.map((i) => [i.name, i.value]));
  const picked = {};        // field -> {page, bbox} of the clicked word(s)
  let active = null;        // the field input words go to
  let revision = data.item ? data.item.revision : null;

  inputs.forEach((input) => {
    input.addEventListener("focus", () => { active = input; highlight(input.name); });
    input.addEventListener("input", () => { delete picked[input.name]; changed(input); });
  });

  function changed(input) {
    input.closest(".field").classList.toggle("edited", input.value !== original[input.name]);
    scheduleCheck();
  }

  // Boxes of the fields as extracted, drawn on their pages.
  function box(overlay, page, bbox, cls, title) {
    const el = document.createElement("span");
    el.className = cls;
    el.style.left = (100 * bbox[0] / page.width) + "%";
    el.style.top = (100 * bbox[1] / page.height) + "%";
    el.style.width = (100 * (bbox[2] - bbox[0]) / page.width) + "%";
    el.style.height = (100 * (bbox[3] - bbox[1]) / page.height) + "%";
    if (title) el.title = title;
    overlay.appendChild(el);
    return el;
  }

  function highlight(field) {
    document.querySelectorAll(".fieldbox").forEach((b) => b.classList.toggle("on", b.dataset.field === field));
    const target = document.querySelector(`.fieldbox[data-field="${field}"]`);
    if (target) target.scrollIntoView({block: "center", behavior: "smooth"});
  }

  async function loadPage(div) {
    const n = Number(div.dataset.page);
    const overlay = div.querySelector(".overlay");
    let page;
    try { page = await call("GET", `/api/documents/${encodeURIComponent(data.document_id)}/pages/${n}/words`); }
    catch (err) { say(`page ${n}: ${err.message}`, true); return; }
    page.words.forEach((w) => {
      const el = box(overlay, page, w.bbox, "word", w.text);
      el.dataset.text = w.text;
      el.addEventListener("mousedown", (e) => e.preventDefault());  // keep the field focused
      el.addEventListener("click", (e) => pick(n, w, e.shiftKey));
    });
    for (const [field, fv] of Object.entries(data.fields)) {
      if (fv.page === n && fv.bbox) box(overlay, page, fv.bbox, "fieldbox", field).dataset.field = field;
    }
  }

  function pick(pageNo, word, append) {
    if (!active) { say("Click a field first, then a word on the page."); return; }
    const before = picked[active.name];
    if (append && before && before.page === pageNo && active.value) {
      active.value = `${active.value} ${word.text}`;
      const b = before.bbox;
      picked[active.name] = {page: pageNo, bbox: [Math.min(b[0], word.bbox[0]), Math.min(b[1], word.bbox[1]),
                                                  Math.max(b[2], word.bbox[2]), Math.max(b[3], word.bbox[3])]};
    } else {
      active.value = word.text;
      picked[active.name] = {page: pageNo, bbox: word.bbox};
    }
    changed(active);
    active.focus();
  }

  // Pages load their words once their image is in view (a 20-page document stays light).
  const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting) { seen.unobserve(e.target); loadPage(e.target); }
  }), {rootMargin: "400px"});
  document.querySelectorAll(".page").forEach((p) => seen.observe(p));

  function corrections() {
    const out = {};
    inputs.forEach((i) => {
      if (i.value !== original[i.name]) out[i.name] = Object.assign({value: i.value.trim() || null}, picked[i.name] || {});
    });
    return out;
  }

  let checkTimer = null;
  function scheduleCheck() {
    if (!data.can_work || !data.item) return;
    clearTimeout(checkTimer);
    checkTimer = setTimeout(async () => {
      try {
        const result = await call("POST", `/api/documents/${encodeURIComponent(data.document_id)}/check`,
                                  {fields: corrections()});
        const list = document.getElementById("issues");
        list.replaceChildren(...result.issues.map((issue) => {
          const li = document.createElement("li");
          const code = document.createElement("b");
          code.textContent = issue.code;
          li.append(code, " " + issue.message);
          return li;
        }));
        if (!result.issues.length) list.replaceChildren(Object.assign(document.createElement("li"), {textContent: "No issues.", className: "ok"}));
      } catch (err) { say(err.message, true); }
    }, 300);
  }

  async function act(action) {
    const comment = document.getElementById("comment").value.trim() || null;
    try {
      if (action === "reopen") {
        const why = comment || prompt("What was wrong?");
        if (!why) return;
        await call("POST", `/api/documents/${encodeURIComponent(data.document_id)}/reopen`, {comment: why});
        say("Reopened: back in the queue."); setTimeout(() => location.reload(), 400);
        return;
      }
      const body = {revision, comment};
      if (action === "approve") body.fields = corrections();
      if (action === "reassign") body.target = document.getElementById("reassign-to").value.trim();
      const item = await call("POST", `/api/queue/${encodeURIComponent(data.document_id)}/${action}`, body);
      revision = item.revision;
      document.getElementById("item-status").textContent = item.status.replace("_", " ");
      say(`${action}: done${item.decision_id ? " — the decision is on its way" : ""}.`);
      if (["approve", "reject", "escalate"].includes(action)) setTimeout(() => { location = "/console/queue"; }, 600);
    } catch (err) { say(`${action}: ${err.message}`, true); }
  }

  document.querySelectorAll("#actions button[data-action]").forEach((b) =>
    b.addEventListener("click", () => act(b.dataset.action)));
  const can = (action) => document.querySelector(`#actions button[data-action="${action}"]`);

  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && can("approve")) { e.preventDefault(); act("approve"); return; }
    if (e.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (typing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {a: "approve", r: "reject", e: "escalate", c: "claim", w: "reopen"};
    if (keys[e.key] && can(keys[e.key])) { e.preventDefault(); act(keys[e.key]); return; }
    if (e.key === "n" || e.key === "p" || e.key === "/") {
      e.preventDefault();
      const at = active ? inputs.indexOf(active) : -1;
      const next = e.key === "/" ? 0 : (at + (e.key === "n" ? 1 : inputs.length - 1)) % inputs.length;
      inputs[next].focus();
    }
  });
}

const docData = document.getElementById("doc-data");
if (docData) documentView(JSON.parse(docData.textContent));
listKeys();
