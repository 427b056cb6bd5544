// Small DOM helpers: no framework, just elements.

// h builds an element: h("a", {href: "#/x", class: "btn"}, "text", child…).
// Attributes starting with "on" are event listeners; a false, null or
// undefined attribute is left out; true sets it empty.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (k === "value" && "value" in el) {
      el.value = v;
    } else if (k === "checked" || k === "selected" || k === "disabled") {
      el[k] = Boolean(v);
      if (v) el.setAttribute(k, "");
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// svg builds an SVG element.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

// replace sets el's children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// announce tells screen-reader users what happened.
export function announce(text) {
  const el = document.getElementById("announce");
  if (!el) return;
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 50);
}

// time formats an RFC 3339 time for people, in the browser's zone.
export function time(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2) return "—";
  return d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

// clock formats a time compactly: the time of day for today, else the date too.
export function clock(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2) return "—";
  const today = d.toDateString() === new Date().toDateString();
  return d.toLocaleString(undefined, today
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// ago formats how long before now s was.
export function ago(s) {
  if (!s) return "never";
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2) return "never";
  const sec = Math.round((Date.now() - d.getTime()) / 1000);
  if (sec < 0) return "in " + span(-sec);
  return span(sec) + " ago";
}

function span(sec) {
  if (sec < 60) return sec + " s";
  if (sec < 3600) return Math.round(sec / 60) + " min";
  if (sec < 86400) return Math.round(sec / 3600) + " h";
  return Math.round(sec / 86400) + " d";
}

// timeEl is a <time> element with the exact time as its title.
export function timeEl(s, relative) {
  const text = relative === "clock" ? clock(s) : relative ? ago(s) : time(s);
  return h("time", { datetime: s || "", title: s ? time(s) + " (" + s + ")" : "" }, text);
}

// num formats a count.
export function num(n) {
  return typeof n === "number" ? n.toLocaleString() : "—";
}

// pretty indents a JSON document; other text is returned as it is.
export function pretty(text) {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// list splits a comma or newline separated field.
export function list(text) {
  return String(text || "").split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

// stateBadge shows a subscription state.
export function stateBadge(state) {
  return h("span", { class: "badge state-" + (state || "unknown") }, state || "unknown");
}

// outcomeMark is ✔ / ✗ / ⊘ with words for assistive technology.
export function outcomeMark(outcome) {
  const m = {
    ok: ["✔", "delivered"],
    fail: ["✗", "failed"],
    discard: ["⊘", "discarded"],
  }[outcome] || ["?", outcome];
  return h("span", { class: "mark mark-" + outcome, role: "img", "aria-label": m[1], title: m[1] }, m[0]);
}
