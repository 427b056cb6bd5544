// Subscriptions: the list, and one subscription's status, actions,
// delivery log and attempt inspector.
import { h, replace, announce, timeEl, num, pretty, stateBadge, outcomeMark } from "./dom.js";
import { api, session, catalogue } from "./api.js";
import { errorBox, rememberAccounts } from "./app.js";

const REFRESH_MS = 5000;

export async function listPage(el) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading subscriptions…"));
  replace(el,
    h("div", { class: "page-head" },
      h("h1", {}, "Subscriptions"),
      session.canWrite ? h("a", { class: "button", href: "#/subscriptions/new" }, "New subscription") : null),
    body);
  let timer;
  const load = async () => {
    try {
      const { items } = await api.subscriptions();
      rememberAccounts(items.map((s) => s.account));
      const status = await Promise.all(items.map((s) => api.status(s.id).catch(() => null)));
      replace(body, items.length ? listTable(items, status) : empty());
    } catch (err) {
      replace(body, errorBox(err));
    }
  };
  await load();
  timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}

function empty() {
  return h("div", { class: "card empty" },
    h("p", {}, "No subscriptions yet."),
    session.canWrite ? h("p", {}, h("a", { href: "#/subscriptions/new" }, "Create the first one")) : null);
}

function listTable(items, status) {
  const operator = session.role === "operator";
  return h("div", { class: "table-wrap" }, h("table", { class: "list", id: "subscriptions" },
    h("caption", { class: "visually-hidden" }, "Subscriptions with their state, queue depth and deliveries"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Subscription"),
      operator ? h("th", { scope: "col" }, "Account") : null,
      h("th", { scope: "col" }, "Endpoint"),
      h("th", { scope: "col" }, "Events"),
      h("th", { scope: "col" }, "State"),
      h("th", { scope: "col", class: "n" }, h("abbr", { title: "events waiting, in flight included" }, "Queue")),
      h("th", { scope: "col", class: "n" }, "Delivered"),
      h("th", { scope: "col", class: "n" }, "Failed attempts"),
      h("th", { scope: "col" }, "Last delivery"))),
    h("tbody", {}, items.map((s, i) => {
      const st = status[i];
      return h("tr", { dataset: { id: s.id } },
        h("th", { scope: "row" },
          h("a", { href: "#/subscriptions/" + encodeURIComponent(s.id) }, s.name || s.id),
          s.name ? h("div", { class: "muted small" }, s.id) : null),
        operator ? h("td", {}, s.account) : null,
        h("td", { class: "url" }, s.url),
        h("td", {}, eventsSummary(s.events)),
        h("td", { "data-col": "state" }, stateBadge(st?.state || s.state)),
        h("td", { class: "n", "data-col": "queue" }, st ? num(st.pending) : "—"),
        h("td", { class: "n", "data-col": "delivered" }, st ? num(st.delivered) : "—"),
        h("td", { class: "n", "data-col": "failed" }, st ? num(st.failedAttempts) : "—"),
        h("td", {}, st?.lastSuccess ? timeEl(st.lastSuccess.time, true) : "never"));
    }))));
}

function eventsSummary(events) {
  if (!events || !events.length || events.includes("*")) return "all";
  if (events.length <= 3) return events.join(", ");
  return h("span", { title: events.join(", ") }, events.slice(0, 2).join(", ") + " +" + (events.length - 2));
}

// detailPage shows one subscription.
export async function detailPage(el, id) {
  const s = await api.subscription(id);
  const statusBox = h("section", { class: "card", "aria-labelledby": "status-h" });
  const actionOut = h("div", { class: "action-out", "aria-live": "polite" });
  const inspector = h("section", { class: "card inspector", id: "inspector", "aria-labelledby": "inspector-h", tabindex: "-1" },
    h("h2", { id: "inspector-h" }, "Attempt"),
    h("p", { class: "muted" }, "Choose a delivery in the log to see its request and response."));
  const log = deliveryLog(s, inspector);

  const refreshStatus = async () => {
    try {
      const [sub, st] = await Promise.all([api.subscription(id), api.status(id)]);
      replace(statusBox, statusView(sub, st));
      // The page's heading shows the state too.
      const badge = el.querySelector(".page-head .badge");
      if (badge) badge.replaceWith(stateBadge(st.state));
      replace(actions, actionBar(sub));
    } catch (err) {
      replace(statusBox, errorBox(err));
    }
  };

  const act = async (label, f) => {
    replace(actionOut, h("p", { class: "muted" }, label + "…"));
    try {
      const out = await f();
      await refreshStatus();
      log.reload();
      return out;
    } catch (err) {
      replace(actionOut, errorBox(err));
      return undefined;
    }
  };

  const types = await catalogue().catch(() => []);

  const actionBar = (sub) => {
    if (!session.canWrite) return h("p", { class: "muted" }, "Read-only token: actions need the admin role.");
    const testType = h("select", { id: "test-type", "aria-label": "Event type of the test" },
      types.map((t) => h("option", { value: t.type, selected: t.type === "position" }, t.type)));
    const since = h("input", { id: "replay-since", type: "datetime-local", step: "1", "aria-label": "Replay events since (your local time)" });
    const d = new Date(Date.now() - 3600e3);
    since.value = new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
    const overlap = h("select", { id: "rotate-overlap", "aria-label": "Old secret keeps signing for" },
      ["0s", "1h", "24h", "168h"].map((o) => h("option", { value: o, selected: o === "24h" }, o === "0s" ? "no overlap" : o + " overlap")));
    const paused = sub.state === "paused";
    const deactivated = sub.state === "deactivated";
    return [
      h("div", { class: "button-row" },
        paused || deactivated
          ? h("button", { type: "button", id: "resume", onclick: () => act("Resuming", async () => {
            const r = await api.resume(id);
            replace(actionOut, h("p", { class: "ok" }, deactivated ? "Reactivated: new events only." : "Resumed: the queued events are delivered now."));
            announce("Subscription " + r.state);
          }) }, deactivated ? "Reactivate" : "Resume")
          : h("button", { type: "button", id: "pause", class: "secondary", onclick: () => act("Pausing", async () => {
            const r = await api.pause(id);
            replace(actionOut, h("p", { class: "ok" }, "Paused: events queue up until you resume."));
            announce("Subscription " + r.state);
          }) }, "Pause"),
        h("a", { class: "button secondary", href: "#/subscriptions/" + encodeURIComponent(id) + "/edit" }, "Edit"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm("Delete subscription " + id + "? Its queue is dropped.")) return;
          try {
            await api.remove(id);
            announce("Subscription deleted");
            location.hash = "#/subscriptions";
          } catch (err) {
            replace(actionOut, errorBox(err));
          }
        } }, "Delete")),
      h("form", { class: "inline", onsubmit: (ev) => {
        ev.preventDefault();
        act("Sending a test event", async () => {
          const at = await api.test(id, testType.value);
          replace(actionOut, h("p", { class: at.delivered ? "ok" : "bad" },
            outcomeMark(at.delivered ? "ok" : "fail"), " Test ", at.eventType, at.delivered ? " delivered" : " failed",
            at.statusCode ? " (HTTP " + at.statusCode + ")" : "", at.error ? ": " + at.error : "", " — see the attempt panel."));
          showAttempt(inspector, { ...at, test: true, outcome: at.delivered ? "ok" : "fail", url: sub.url });
        });
      } }, h("label", { for: "test-type" }, "Send a test"), testType, h("button", { type: "submit", id: "send-test" }, "Send test")),
      h("form", { class: "inline", onsubmit: (ev) => {
        ev.preventDefault();
        if (!since.value) return;
        const t = new Date(since.value);
        act("Replaying", async () => {
          await api.replay(id, t.toISOString());
          replace(actionOut, h("p", { class: "ok" }, "Replaying every matching event since ", timeEl(t.toISOString()), "."));
        });
      } }, h("label", { for: "replay-since" }, "Replay since"), since, h("button", { type: "submit", class: "secondary", id: "replay" }, "Replay")),
      h("form", { class: "inline", onsubmit: (ev) => {
        ev.preventDefault();
        if (!confirm("Make a new signing secret for " + id + "?")) return;
        act("Rotating the secret", async () => {
          const r = await api.rotate(id, overlap.value);
          replace(actionOut, secretBox(r.secret, r.previousSecretUntil));
        });
      } }, h("label", { for: "rotate-overlap" }, "Signing secret"), overlap, h("button", { type: "submit", class: "secondary", id: "rotate" }, "Rotate secret")),
    ];
  };
  const actions = h("div", { class: "actions" });

  replace(el,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/subscriptions" }, "Subscriptions"), " / ", id),
    h("div", { class: "page-head" }, h("h1", {}, s.name || s.id), stateBadge(s.state)),
    h("div", { class: "detail-grid" },
      statusBox,
      h("section", { class: "card", "aria-labelledby": "def-h" }, h("h2", { id: "def-h" }, "Definition"), definition(s))),
    h("section", { class: "card", "aria-labelledby": "actions-h" }, h("h2", { id: "actions-h" }, "Actions"), actions, actionOut),
    h("div", { class: "log-grid" }, log.el, inspector));
  await refreshStatus();
  const timer = setInterval(async () => {
    await refreshStatus();
    log.poll();
  }, REFRESH_MS);
  return () => clearInterval(timer);
}

export function secretBox(secret, until) {
  return h("div", { class: "secret", role: "alert" },
    h("p", {}, h("strong", {}, "New signing secret"), " — shown this once; give it to the receiver now:"),
    h("pre", { class: "code", tabindex: "0" }, secret),
    until ? h("p", { class: "muted" }, "The previous secret also signs until ", timeEl(until), ".") : null);
}

function statusView(sub, st) {
  return [
    h("h2", { id: "status-h" }, "Status"),
    h("dl", { class: "facts", id: "status" },
      h("dt", {}, "State"), h("dd", { "data-field": "state" }, stateBadge(st.state),
        st.stateReason ? h("span", { class: "muted" }, " ", st.stateReason) : null),
      h("dt", {}, "Queue"), h("dd", { "data-field": "pending" }, num(st.pending), " waiting", st.inFlight ? " (" + st.inFlight + " in flight)" : ""),
      h("dt", {}, "Delivered"), h("dd", { "data-field": "delivered" }, num(st.delivered)),
      h("dt", {}, "Failed attempts"), h("dd", { "data-field": "failed" }, num(st.failedAttempts)),
      h("dt", {}, "Discarded"), h("dd", {}, num(st.discarded)),
      h("dt", {}, "Last success"), h("dd", {}, st.lastSuccess ? timeEl(st.lastSuccess.time, true) : "never"),
      h("dt", {}, "Last failure"), h("dd", {}, st.lastFailure
        ? [timeEl(st.lastFailure.time, true), " — ", st.lastFailure.statusCode ? "HTTP " + st.lastFailure.statusCode : (st.lastFailure.error || "")]
        : "never"),
      sub.previousSecretUntil ? [h("dt", {}, "Secret rotation"), h("dd", {}, "old secret signs until ", timeEl(sub.previousSecretUntil))] : null),
  ];
}

function definition(s) {
  const row = (k, v) => (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length) ? null : [h("dt", {}, k), h("dd", {}, v)]);
  return h("dl", { class: "facts" },
    row("Id", h("code", {}, s.id)),
    session.role === "operator" ? row("Account", s.account) : null,
    row("URL", h("span", { class: "url" }, s.url)),
    row("Events", (s.events || []).includes("*") ? "all event types" : (s.events || []).join(", ")),
    row("Vehicles", (s.vehicles || []).join(", ")),
    row("Vehicle groups", (s.vehicleGroups || []).join(", ")),
    row("Geofence tags", (s.geofenceTags || []).join(", ")),
    row("Format", s.format + ", " + s.payload + " payload"),
    row("Ordering", s.ordering === "vehicle" ? "per vehicle" + (s.maxInFlight ? ", up to " + s.maxInFlight + " in flight" : "") : "one at a time, in order"),
    row("Auth header", s.authHeader),
    row("Retries", (s.retrySchedule || []).join(", ")),
    row("Created", timeEl(s.createdAt)),
    row("Updated", timeEl(s.updatedAt)));
}

// deliveryLog is the log table with its filters and paging.
function deliveryLog(sub, inspector) {
  const status = h("select", { id: "log-status", name: "status" },
    h("option", { value: "" }, "all attempts"),
    h("option", { value: "failed" }, "errors only (✗)"),
    h("option", { value: "delivered" }, "delivered only (✔)"),
    h("option", { value: "discarded" }, "discarded only"));
  const vehicle = h("input", { id: "log-vehicle", name: "vehicle", size: "14", placeholder: "any", spellcheck: "false" });
  const body = h("div", { class: "log-body" });
  const more = h("div", {});
  let pages = [];
  let next = "";
  let selected = "";

  const render = () => {
    const items = pages.flat();
    if (!items.length) {
      replace(body, h("p", { class: "muted empty-log" }, status.value ? "No " + status.selectedOptions[0].text + " in the log." : "No deliveries yet."));
    } else {
      // Errors are shown for attempts nothing answered (a status says the rest).
      const errors = items.some((r) => !r.statusCode && r.error);
      replace(body, h("div", { class: "table-wrap" }, h("table", { class: "list log", id: "deliveries" },
        h("caption", { class: "visually-hidden" }, "Delivery attempts, newest first"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Outcome")),
          h("th", { scope: "col" }, "Time"),
          h("th", { scope: "col" }, "Event"),
          h("th", { scope: "col" }, "Vehicle"),
          h("th", { scope: "col", class: "n" }, "Seq"),
          h("th", { scope: "col", class: "n" }, "Try"),
          h("th", { scope: "col", class: "n" }, "Status"),
          h("th", { scope: "col", class: "n" }, "Latency"),
          errors ? h("th", { scope: "col" }, "Error") : null)),
        h("tbody", {}, items.map((r) => {
          const key = r.eventId + "/" + r.attempt + "/" + r.epoch;
          return h("tr", { class: "outcome-" + r.outcome + (key === selected ? " selected" : ""), dataset: { outcome: r.outcome, event: r.eventId } },
            h("td", {}, outcomeMark(r.outcome)),
            h("td", { class: "when" }, timeEl(r.time, "clock")),
            h("td", {}, h("button", {
              type: "button", class: "link", "aria-controls": "inspector",
              "aria-label": "Inspect attempt " + r.attempt + " of " + r.eventType + " event " + r.eventId,
              onclick: () => {
                selected = key;
                render();
                showAttempt(inspector, r, sub);
              },
            }, r.eventType), h("div", { class: "muted small mono" }, r.eventId)),
            h("td", {}, r.vehicle),
            h("td", { class: "n" }, r.seq),
            h("td", { class: "n" }, r.attempt),
            h("td", { class: "n" }, r.statusCode || "—"),
            h("td", { class: "n" }, r.latencyMs !== undefined ? Math.round(r.latencyMs) + " ms" : ""),
            errors ? h("td", { class: "detail" }, r.statusCode ? "" : (r.error || "")) : null);
        })))));
    }
    replace(more, next ? h("button", { type: "button", class: "secondary", onclick: () => load(true) }, "Older deliveries") : null);
  };

  const load = async (older) => {
    try {
      const page = await api.deliveries(sub.id, { status: status.value, vehicle: vehicle.value.trim(), limit: 50, cursor: older ? next : "" });
      pages = older ? [...pages, page.items] : [page.items];
      next = page.next || "";
      render();
    } catch (err) {
      replace(body, errorBox(err));
    }
  };

  const el = h("section", { class: "card", "aria-labelledby": "log-h" },
    h("div", { class: "section-head" },
      h("h2", { id: "log-h" }, "Delivery log"),
      h("form", { class: "inline filters", role: "search", "aria-label": "Filter the delivery log", onsubmit: (ev) => { ev.preventDefault(); load(false); } },
        h("label", { for: "log-status" }, "Show"), status,
        h("label", { for: "log-vehicle" }, "Vehicle"), vehicle,
        h("button", { type: "submit", class: "secondary" }, "Apply"))),
    body, more);
  status.addEventListener("change", () => load(false));
  load(false);
  return {
    el,
    reload: () => load(false),
    // poll refreshes the newest page unless the user paged further.
    poll: () => { if (pages.length <= 1) load(false); },
  };
}

// showAttempt fills the inspector with one attempt (a log record or a test
// answer): what was sent and what came back.
async function showAttempt(panel, r, sub) {
  const req = r.request || "";
  const ct = r.contentType || (req.trim().startsWith("{") ? "application/json" : "");
  const others = h("div", {});
  replace(panel,
    h("h2", { id: "inspector-h" }, r.test ? "Test delivery" : "Attempt " + r.attempt),
    h("dl", { class: "facts" },
      h("dt", {}, "Outcome"), h("dd", { id: "attempt-outcome" }, outcomeMark(r.outcome), " ", { ok: "delivered", fail: "failed", discard: "discarded" }[r.outcome] || r.outcome),
      h("dt", {}, "Event"), h("dd", {}, r.eventType, " ", h("code", {}, r.eventId)),
      r.vehicle ? [h("dt", {}, "Vehicle"), h("dd", {}, r.vehicle, r.seq ? " · seq " + r.seq : "")] : null,
      r.time ? [h("dt", {}, "Sent"), h("dd", {}, timeEl(r.time))] : null,
      h("dt", {}, "Latency"), h("dd", {}, r.latencyMs !== undefined ? r.latencyMs.toFixed(1) + " ms" : "—"),
      r.nextAttempt ? [h("dt", {}, "Next try"), h("dd", {}, timeEl(r.nextAttempt), " (", timeEl(r.nextAttempt, true), ")")] : null,
      r.error ? [h("dt", {}, "Error"), h("dd", { class: "bad" }, r.error)] : null),
    h("h3", {}, "Request"),
    h("p", { class: "mono small" }, "POST ", r.url || sub?.url || ""),
    ct ? h("p", { class: "mono small" }, "Content-Type: " + ct) : null,
    req ? h("pre", { class: "code", id: "attempt-request", tabindex: "0", "aria-label": "Request body" }, pretty(req))
      : h("p", { class: "muted" }, "The body was not recorded."),
    h("h3", {}, "Response"),
    h("p", { class: "mono small", id: "attempt-status" }, r.statusCode ? "HTTP " + r.statusCode : "no response"),
    r.response ? h("pre", { class: "code", id: "attempt-response", tabindex: "0", "aria-label": "Response body (first KiB)" }, pretty(r.response))
      : h("p", { class: "muted" }, r.statusCode ? "Empty body." : "Nothing came back."),
    others);
  panel.focus({ preventScroll: true });
  if (r.test || !sub) return;
  // Every attempt at this event, oldest first.
  try {
    const d = await api.delivery(sub.id, r.eventId, r.vehicle);
    if (d.attempts.length > 1) {
      replace(others, h("h3", {}, "All attempts at this event"),
        h("ol", { class: "attempts" }, d.attempts.map((a) => h("li", {},
          h("button", { type: "button", class: "link", onclick: () => showAttempt(panel, a, sub) },
            outcomeMark(a.outcome), " try ", a.attempt, " · ", a.statusCode ? "HTTP " + a.statusCode : (a.error || "no response")),
          " ", timeEl(a.time)))));
    }
  } catch {
    // the record above is all there is
  }
}
