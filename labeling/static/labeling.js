// docflow labeling: assign fields by clicking or dragging over words, save, induce and publish a
// template; the work list's upload; a template's rollback. Uses call() and typing() from console.js.
"use strict";

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
                 "#469990", "#800000", "#808000", "#000075", "#bfef45", "#fabed4", "#a9a9a9"];
const sameBox = (a, b) => a.every((v, i) => Math.abs(v - b[i]) < 0.01);

function labelView(data) {
  const status = document.getElementById("status");
  const say = (text, bad) => { status.textContent = text; status.classList.toggle("bad", !!bad); };
  const enc = encodeURIComponent(data.document_id);
  const state = {};       // field -> {page, words: [{text, bbox}], value: typed or null, shown: saved value}
  const pages = {};       // page number -> {page, spans: [{word, el}]}
  let rows = 0, order = [], at = 0, revision = data.revision, dirty = false;

  for (const label of data.labels) {
    state[label.field] = {page: label.page, words: label.words || [], value: null, shown: label.value};
    const m = /^line_items\.(\d+)\./.exec(label.field);
    if (m) rows = Math.max(rows, Number(m[1]) + 1);
  }
  const colour = (field) => {
    const column = field.split(".").pop();
    const i = field.startsWith("line_items") ? data.header.length + data.columns.indexOf(column) : data.header.indexOf(field);
    return PALETTE[i % PALETTE.length];
  };

  // ---- the field list and the line-item table
  const fieldsEl = document.getElementById("fields");
  const itemsBody = document.querySelector("#items tbody");

  function cell(field) {
    const el = document.createElement("div");
    el.className = "field";
    el.dataset.field = field;
    const name = document.createElement("label");
    name.textContent = field.startsWith("line_items") ? field.split(".").pop().replace("_", " ") : field.replace(/_/g, " ");
    const text = document.createElement("span");
    text.className = "picked";
    const input = document.createElement("input");
    input.name = field;
    input.setAttribute("aria-label", field);
    input.addEventListener("focus", () => select(order.indexOf(field)));
    input.addEventListener("input", () => { state[field] = Object.assign(state[field] || {page: null, words: []}, {value: input.value || null}); dirty = true; });
    el.append(name, text, input);
    el.addEventListener("mousedown", (e) => { if (e.target !== input) { e.preventDefault(); select(order.indexOf(field)); } });
    return el;
  }

  function render() {
    order = [...data.header];
    fieldsEl.replaceChildren(...data.header.map(cell));
    itemsBody.replaceChildren();
    for (let r = 0; r < rows; r++) {
      const tr = document.createElement("tr");
      const n = document.createElement("td");
      n.textContent = r + 1;
      tr.append(n);
      for (const c of data.columns) {
        const td = document.createElement("td");
        td.append(cell(`line_items.${r}.${c}`));
        tr.append(td);
        order.push(`line_items.${r}.${c}`);
      }
      itemsBody.append(tr);
    }
    refresh();
  }

  function refresh() {
    for (const el of document.querySelectorAll("#fields .field, #items .field")) {
      const s = state[el.dataset.field];
      el.querySelector(".picked").textContent = s && s.words.length ? s.words.map((w) => w.text).join(" ") : "";
      const input = el.querySelector("input");
      if (document.activeElement !== input) input.value = s && s.value ? s.value : "";
      input.placeholder = s && s.shown ? s.shown : "";
      el.classList.toggle("done", !!(s && (s.words.length || s.value)));
      el.classList.toggle("on", el.dataset.field === order[at]);
      el.style.borderLeftColor = colour(el.dataset.field);
    }
    for (const {spans} of Object.values(pages)) {
      for (const {word, el, page} of spans) {
        const owner = Object.keys(state).find((f) => state[f].page === page && state[f].words.some((w) => sameBox(w.bbox, word.bbox)));
        el.classList.toggle("lab", !!owner);
        el.classList.toggle("mine", owner === order[at]);
        el.style.backgroundColor = owner ? colour(owner) + "55" : "";
        el.title = owner ? `${word.text} — ${owner}` : word.text;
      }
    }
  }

  function select(i) {
    at = Math.max(0, Math.min(order.length - 1, i));
    last = null;
    refresh();
    const el = document.querySelector(`.field[data-field="${order[at]}"]`);
    if (el) el.scrollIntoView({block: "nearest"});
  }

  // Shift adds to the field just filled (the cursor has moved on to the next one by then).
  let last = null;
  function assign(pageNo, words, append) {
    if (!words.length) return;
    const field = append && last ? last : order[at];
    last = field;
    const before = state[field];
    let chosen = words.map((w) => ({text: w.text, bbox: w.bbox}));
    if (append && before && before.page === pageNo) chosen = [...before.words, ...chosen.filter((w) => !before.words.some((b) => sameBox(b.bbox, w.bbox)))];
    state[field] = {page: pageNo, words: chosen, value: null, shown: null};
    dirty = true;
    if (!append) {  // on to the next field still empty
      const next = order.findIndex((f, i) => i > at && !(state[f] && (state[f].words.length || state[f].value)));
      if (next >= 0) at = next;
    }
    const el = document.querySelector(`.field[data-field="${order[at]}"]`);
    if (el) el.scrollIntoView({block: "nearest"});
    refresh();
  }

  // ---- pages: words drawn as boxes; a click takes a word, a drag takes every word it covers
  function toPoints(overlay, page, e) {
    const r = overlay.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width * page.width, (e.clientY - r.top) / r.height * page.height];
  }

  async function loadPage(div) {
    const n = Number(div.dataset.page);
    const overlay = div.querySelector(".overlay");
    let page;
    try { page = await call("GET", `/api/documents/${enc}/pages/${n}/words`); }
    catch (err) { say(`page ${n}: ${err.message}`, true); return; }
    const spans = page.words.map((word, i) => {
      const el = document.createElement("span");
      el.className = "word";
      el.dataset.text = word.text;
      el.dataset.i = i;
      el.style.left = (100 * word.bbox[0] / page.width) + "%";
      el.style.top = (100 * word.bbox[1] / page.height) + "%";
      el.style.width = (100 * (word.bbox[2] - word.bbox[0]) / page.width) + "%";
      el.style.height = (100 * (word.bbox[3] - word.bbox[1]) / page.height) + "%";
      overlay.append(el);
      return {word, el, page: n};
    });
    pages[n] = {page, spans};
    let start = null, band = null;
    overlay.addEventListener("mousedown", (e) => {
      e.preventDefault();
      start = toPoints(overlay, page, e);
      band = document.createElement("span");
      band.className = "band";
      overlay.append(band);
    });
    overlay.addEventListener("mousemove", (e) => {
      if (!start) return;
      const [x, y] = toPoints(overlay, page, e);
      Object.assign(band.style, {left: 100 * Math.min(x, start[0]) / page.width + "%", top: 100 * Math.min(y, start[1]) / page.height + "%",
                                 width: 100 * Math.abs(x - start[0]) / page.width + "%", height: 100 * Math.abs(y - start[1]) / page.height + "%"});
    });
    overlay.addEventListener("mouseup", (e) => {
      if (!start) return;
      const [x, y] = toPoints(overlay, page, e);
      const [x0, y0, x1, y1] = [Math.min(x, start[0]), Math.min(y, start[1]), Math.max(x, start[0]), Math.max(y, start[1])];
      start = null;
      band.remove();
      let words;
      if (x1 - x0 < 2 && y1 - y0 < 2) {  // a click: the word under the pointer
        const hit = spans.find((s) => e.target === s.el);
        words = hit ? [hit.word] : [];
      } else {  // a drag: every word at least half inside
        words = spans.map((s) => s.word).filter((w) => {
          const inter = Math.max(0, Math.min(x1, w.bbox[2]) - Math.max(x0, w.bbox[0])) * Math.max(0, Math.min(y1, w.bbox[3]) - Math.max(y0, w.bbox[1]));
          return inter / Math.max(1e-6, (w.bbox[2] - w.bbox[0]) * (w.bbox[3] - w.bbox[1])) >= 0.5;
        }).sort((a, b) => Math.round(a.bbox[1] / 4) - Math.round(b.bbox[1] / 4) || a.bbox[0] - b.bbox[0]);
      }
      assign(n, words, e.shiftKey);
    });
    refresh();
  }
  const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting) { seen.unobserve(e.target); loadPage(e.target); }
  }), {rootMargin: "400px"});
  document.querySelectorAll(".page").forEach((p) => seen.observe(p));

  // ---- save, induce, check, publish
  function picks() {
    return Object.entries(state).filter(([, s]) => s.words.length || s.value).map(([field, s]) =>
      ({field, page: s.words.length ? s.page : null, words: s.words.map((w) => w.bbox), value: s.value}));
  }

  async function save() {
    document.querySelectorAll(".field.bad").forEach((el) => { el.classList.remove("bad"); el.removeAttribute("title"); });
    try {
      const saved = await call("PUT", `/api/labeling/documents/${enc}/labels`, {picks: picks(), base_revision: revision});
      revision = saved.revision;
      for (const label of saved.labels) Object.assign(state[label.field], {shown: label.value, value: null});
      dirty = false;
      document.getElementById("revision").textContent = `r${revision}`;
      say(`Saved: revision ${revision}, ${saved.labels.length} labels.`);
      refresh();
      return true;
    } catch (err) {
      const fields = (/^422: (.*)$/.exec(err.message) || [])[1];
      try {
        for (const [field, why] of Object.entries(JSON.parse(fields).fields)) {
          const el = document.querySelector(`.field[data-field="${field}"]`);
          if (el) { el.classList.add("bad"); el.title = why; }
        }
      } catch { /* not a per-field error */ }
      say(`Not saved: ${err.message}`, true);
      return false;
    }
  }

  const templateId = () => document.getElementById("template-id").value.trim();
  const documents = () => [...new Set([data.document_id,
    ...[...document.querySelectorAll('input[name="also"]:checked')].map((box) => box.value),
    ...document.getElementById("more-docs").value.split(",").map((s) => s.trim()).filter(Boolean)])];
  const yaml = document.getElementById("yaml");

  function showCheck(result, dropped) {
    const body = document.querySelector("#check tbody");
    const first = result.documents[0] || {fields: {}};
    body.replaceChildren(...Object.entries(first.fields).map(([field, row]) => {
      const tr = document.createElement("tr");
      const ok = field in result.fields ? result.fields[field] : null;
      for (const text of [field, row.label ?? "", row.template ?? "—", ok === null ? "not labelled" : ok ? "✓" : "✗"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      tr.className = ok === null ? "" : ok ? "ok" : "bad";
      return tr;
    }));
    const unmatched = result.documents.filter((d) => !d.matched).map((d) => `${d.document_id}: detection gives ${d.detected.template || d.detected.status}`);
    document.getElementById("dropped").textContent = [
      ...Object.entries(dropped || {}).map(([f, why]) => `${f}: ${why}`), ...unmatched].join(" · ");
    document.getElementById("induced").hidden = false;
  }

  async function induce() {
    if (!templateId()) { say("Name the template first.", true); document.getElementById("template-id").focus(); return; }
    if ((dirty || !revision) && !(await save())) return;
    try {
      const result = await call("POST", `/api/labeling/templates/${encodeURIComponent(templateId())}/induce`, {documents: documents()});
      yaml.value = result.yaml;
      showCheck(result.check, result.dropped);
      say(`Induced ${templateId()} v${result.version}: ${result.check.ok ? "every label reproduced" : "not every label reproduced — edit the YAML or the labels"}.`, !result.check.ok);
    } catch (err) { say(`induce: ${err.message}`, true); }
  }

  async function checkYaml() {
    try {
      const result = await call("POST", `/api/labeling/templates/${encodeURIComponent(templateId())}/check`, {documents: documents(), yaml: yaml.value});
      showCheck(result.check);
      say(result.check.ok ? "Every label reproduced." : "Not every label reproduced.", !result.check.ok);
    } catch (err) { say(`check: ${err.message}`, true); }
  }

  async function publish(force) {
    try {
      const result = await call("POST", `/api/labeling/templates/${encodeURIComponent(templateId())}/publish`,
                                {documents: documents(), yaml: yaml.value, force: !!force});
      showCheck(result.check);
      say(`Published ${result.template_id} v${result.version}: workers read with it from the next document.`);
    } catch (err) {
      if (!force && err.message.startsWith("422") && err.message.includes("publish with force")
          && confirm("The template does not give back every label. Publish anyway?")) return publish(true);
      say(`publish: ${err.message}`, true);
    }
  }

  document.getElementById("save").addEventListener("click", save);
  document.getElementById("induce").addEventListener("click", induce);
  document.getElementById("check-yaml").addEventListener("click", checkYaml);
  const publishButton = document.getElementById("publish");
  if (publishButton) publishButton.addEventListener("click", () => publish(false));
  document.getElementById("add-row").addEventListener("click", () => { rows += 1; render(); select(order.indexOf(`line_items.${rows - 1}.${data.columns[0]}`)); });
  window.addEventListener("beforeunload", (e) => { if (dirty) e.preventDefault(); });

  document.addEventListener("keydown", (e) => {
    if ((e.key === "s" && (e.ctrlKey || e.metaKey))) { e.preventDefault(); save(); return; }
    if (e.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (typing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "n" || e.key === "j") { e.preventDefault(); select(at + 1); }
    else if (e.key === "p" || e.key === "k") { e.preventDefault(); select(at - 1); }
    else if (e.key === "x" || e.key === "Backspace" || e.key === "Delete") { e.preventDefault(); delete state[order[at]]; dirty = true; refresh(); }
    else if (e.key === "Enter") { e.preventDefault(); const el = document.querySelector(`.field[data-field="${order[at]}"] input`); if (el) el.focus(); }
    else if (e.key === "s") { e.preventDefault(); save(); }
    else if (e.key === "i") { e.preventDefault(); document.getElementById("add-row").click(); }
    else if (e.key === "g") { e.preventDefault(); induce(); }
  });
  render();
  select(order.findIndex((f) => !(state[f] && state[f].words.length)));
  if (data.suggested) {
    dirty = true;
    say("Pre-filled from the extraction: check every field, correct what is wrong, then save.");
  }
}

function templateView(data) {
  const status = document.getElementById("status");
  document.querySelectorAll("button[data-rollback]").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm(`Make v${b.dataset.rollback} the active version of ${data.template_id}? Newer versions are retired.`)) return;
    try {
      await call("POST", `/api/labeling/templates/${encodeURIComponent(data.template_id)}/rollback`, {version: Number(b.dataset.rollback)});
      location.reload();
    } catch (err) { status.textContent = err.message; status.classList.add("bad"); }
  }));
}

function uploadForm(form) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = document.getElementById("status");
    const response = await fetch("/api/labeling/documents", {method: "POST", credentials: "same-origin",
                                                             headers: {"X-CSRF-Token": csrf()}, body: new FormData(form)});
    const body = await response.json().catch(() => ({}));
    if (response.ok) location = `/labeling/documents/${encodeURIComponent(body.document_id)}`;
    else { status.textContent = `${response.status}: ${JSON.stringify(body.detail)}`; status.classList.add("bad"); }
  });
}

const labelData = document.getElementById("label-data");
if (labelData) labelView(JSON.parse(labelData.textContent));
const templateData = document.getElementById("template-data");
if (templateData) templateView(JSON.parse(templateData.textContent));
const upload = document.getElementById("upload");
if (upload) uploadForm(upload);
