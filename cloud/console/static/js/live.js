// Live events: the account's new events as they reach the hub, from the
// API's Server-Sent Events feed. EventSource cannot send an Authorization
// header, so the feed is read with fetch and parsed here.
import { h, replace, announce, timeEl } from "./dom.js";
import { session, withAccount, catalogue, ApiError } from "./api.js";
import { errorBox } from "./app.js";

const KEEP = 200;

export async function livePage(el) {
  const types = await catalogue().catch(() => []);
  const vehicle = h("input", { id: "live-vehicle", size: "14", placeholder: "any", spellcheck: "false" });
  const type = h("select", { id: "live-type" }, h("option", { value: "" }, "any"), types.map((t) => h("option", { value: t.type }, t.type)));
  const toggle = h("button", { type: "button", id: "live-toggle" }, "Pause");
  const state = h("span", { class: "live-state", id: "live-state", role: "status" }, "connecting…");
  const count = h("span", { class: "muted" });
  const rows = h("tbody", { id: "live-rows" });
  const table = h("table", { class: "list live", id: "live" },
    h("caption", { class: "visually-hidden" }, "Live events, newest first"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Received"),
      h("th", { scope: "col" }, "Event"),
      h("th", { scope: "col" }, "Vehicle"),
      h("th", { scope: "col", class: "n" }, "Seq"),
      h("th", { scope: "col" }, "Happened"),
      h("th", { scope: "col" }, "Position"),
      h("th", { scope: "col" }, "Data"))),
    rows);
  const err = h("div", {});
  replace(el,
    h("div", { class: "page-head" }, h("h1", {}, "Live events"), state),
    h("form", { class: "card inline filters", role: "search", "aria-label": "Filter live events", onsubmit: (ev) => { ev.preventDefault(); restart(); } },
      h("label", { for: "live-vehicle" }, "Vehicle"), vehicle,
      h("label", { for: "live-type" }, "Type"), type,
      h("button", { type: "submit", class: "secondary" }, "Apply"),
      toggle, count),
    err,
    h("div", { class: "table-wrap card" }, table,
      h("p", { class: "muted small" }, "Only events that arrive while this page is open are shown (the newest ", KEEP, ").")));

  let ctrl = null;
  let running = true;
  let lastId = "";
  let n = 0;
  let retry = 1000;

  const setState = (s, cls) => {
    state.textContent = s;
    state.className = "live-state " + (cls || "");
  };

  const add = (ev) => {
    let e;
    try {
      e = JSON.parse(ev.data);
    } catch {
      return;
    }
    n++;
    count.textContent = n + " received";
    const loc = e.location;
    const tr = h("tr", { dataset: { type: e.type } },
      h("td", { class: "when" }, timeEl(new Date().toISOString(), "clock")),
      h("td", {}, h("code", {}, e.type)),
      h("td", {}, e.vehicle?.name ? [e.vehicle.name, h("div", { class: "muted small" }, e.vehicle.id)] : e.vehicle?.id),
      h("td", { class: "n" }, e.seq ?? ""),
      h("td", { class: "when" }, timeEl(e.occurredAt, "clock")),
      h("td", { class: "mono small" }, loc ? loc.lat.toFixed(5) + ", " + loc.lon.toFixed(5) + (loc.speedKph ? " · " + Math.round(loc.speedKph) + " km/h" : "") : "—"),
      h("td", {}, h("details", {}, h("summary", {}, "JSON"), h("pre", { class: "code small" }, JSON.stringify(e, null, 2)))));
    rows.prepend(tr);
    while (rows.children.length > KEEP) rows.lastElementChild.remove();
  };

  const connect = async () => {
    ctrl = new AbortController();
    const params = {};
    if (vehicle.value.trim()) params.vehicle = vehicle.value.trim();
    if (type.value) params.type = type.value;
    const headers = { Authorization: "Bearer " + session.token, Accept: "text/event-stream" };
    if (lastId) headers["Last-Event-ID"] = lastId;
    setState("connecting…");
    try {
      const res = await fetch(withAccount("/v1/events/live", params), { headers, signal: ctrl.signal, cache: "no-store" });
      if (!res.ok) {
        let p = { title: res.statusText };
        try { p = await res.json(); } catch { /* not a problem document */ }
        throw new ApiError(res.status, p);
      }
      setState("live", "on");
      announce("Live feed connected");
      replace(err);
      retry = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i).replace(/^\r?\n\r?\n/, "");
          const ev = { event: "message", data: "", id: "" };
          const data = [];
          for (const line of block.split(/\r?\n/)) {
            if (!line || line.startsWith(":")) continue;
            const c = line.indexOf(":");
            const k = c < 0 ? line : line.slice(0, c);
            const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
            if (k === "data") data.push(v);
            else if (k === "id") ev.id = v;
            else if (k === "event") ev.event = v;
          }
          if (!data.length) continue;
          ev.data = data.join("\n");
          if (ev.id) lastId = ev.id;
          add(ev);
        }
      }
      throw new Error("the feed ended");
    } catch (e) {
      if (e.name === "AbortError") return;
      if (e instanceof ApiError && e.status < 500) {
        running = false;
        setState("stopped", "off");
        toggle.textContent = "Resume";
        replace(err, errorBox(e));
        return;
      }
      setState("reconnecting…", "off");
      setTimeout(() => { if (running && !ctrl.signal.aborted) connect(); }, retry);
      retry = Math.min(retry * 2, 30000);
    }
  };

  const stop = () => {
    ctrl?.abort();
  };
  const restart = () => {
    stop();
    lastId = "";
    if (running) connect();
  };
  toggle.addEventListener("click", () => {
    running = !running;
    toggle.textContent = running ? "Pause" : "Resume";
    if (running) connect();
    else {
      stop();
      setState("paused", "off");
    }
  });
  connect();
  return stop;
}
