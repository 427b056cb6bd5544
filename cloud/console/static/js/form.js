// Create and edit a subscription.
import { h, replace, announce, list } from "./dom.js";
import { api, session, catalogue, subscriptionFields, ApiError } from "./api.js";
import { errorBox } from "./app.js";
import { secretBox } from "./subscriptions.js";

export async function formPage(el, id) {
  const [types, fields, s] = await Promise.all([
    catalogue(),
    subscriptionFields(),
    id ? api.subscription(id) : Promise.resolve(null),
  ]);
  const editing = Boolean(s);
  // Offer a field the API does not take only when its schema could not be read.
  const accepts = (name) => fields.size === 0 || fields.has(name);
  const cur = s || { events: ["*"], format: "json", payload: "full", ordering: "subscription" };
  const all = !cur.events || cur.events.includes("*");

  const field = (name, label, input, help) => {
    input.id ||= "f-" + name;
    input.name ||= name;
    const helpId = input.id + "-help";
    const errId = input.id + "-err";
    input.setAttribute("aria-describedby", [help ? helpId : "", errId].filter(Boolean).join(" "));
    return h("div", { class: "field", dataset: { field: name } },
      h("label", { for: input.id }, label), input,
      help ? h("p", { class: "hint", id: helpId }, help) : null,
      h("p", { class: "field-error", id: errId }));
  };
  const text = (name, value, attrs = {}) => h("input", { type: "text", value: value ?? "", spellcheck: "false", ...attrs, name });
  const radios = (name, legend, options, value) => h("fieldset", { class: "field", dataset: { field: name } },
    h("legend", {}, legend),
    options.map(([v, label]) => h("label", { class: "choice" },
      h("input", { type: "radio", name, value: v, checked: v === value }), " ", label)),
    h("p", { class: "field-error", id: "f-" + name + "-err" }));

  // Event selection: all, or chosen types from the catalogue.
  const allBox = h("input", { type: "checkbox", id: "ev-all", checked: all });
  const typeBoxes = types.map((t) => h("input", {
    type: "checkbox", name: "event", value: t.type, id: "ev-" + t.type,
    checked: !all && cur.events.includes(t.type), disabled: all,
  }));
  allBox.addEventListener("change", () => {
    for (const b of typeBoxes) b.disabled = allBox.checked;
  });
  const events = h("fieldset", { class: "field events", dataset: { field: "events" } },
    h("legend", {}, "Events"),
    h("label", { class: "choice strong" }, allBox, " All event types, including ones added later"),
    h("div", { class: "event-grid" }, types.map((t, i) => h("label", { class: "choice", for: "ev-" + t.type, title: t.summary },
      typeBoxes[i], " ", h("span", {}, h("code", {}, t.type), h("span", { class: "hint" }, t.summary))))),
    h("p", { class: "field-error", id: "f-events-err" }));

  const inputs = {
    id: text("id", "", { pattern: "[A-Za-z0-9_-]{1,64}", placeholder: "generated when empty" }),
    account: text("account", session.account, { placeholder: "required for operator tokens" }),
    name: text("name", cur.name),
    url: h("input", { type: "url", name: "url", required: true, value: cur.url || "", placeholder: "https://example.com/webhooks/fleetwire", spellcheck: "false" }),
    vehicles: h("textarea", { name: "vehicles", rows: "2", spellcheck: "false" }, (cur.vehicles || []).join(", ")),
    vehicleGroups: h("textarea", { name: "vehicleGroups", rows: "2", spellcheck: "false" }, (cur.vehicleGroups || []).join(", ")),
    geofenceTags: h("textarea", { name: "geofenceTags", rows: "2", spellcheck: "false" }, (cur.geofenceTags || []).join(", ")),
    maxInFlight: h("input", { type: "number", name: "maxInFlight", min: "0", max: "1000", value: cur.maxInFlight || "" }),
    authHeader: text("authHeader", cur.authHeader, { placeholder: "e.g. Authorization" }),
    authValue: h("input", { type: "password", name: "authValue", autocomplete: "new-password", placeholder: editing && cur.authHeader ? "unchanged" : "" }),
    retrySchedule: text("retrySchedule", (cur.retrySchedule || []).join(", "), { placeholder: "server default, e.g. 5s, 1m, 10m, 1h" }),
    secret: h("input", { type: "password", name: "secret", autocomplete: "new-password", placeholder: "generated when empty" }),
  };
  inputs.authValue.id = "f-auth";

  const msg = h("div", { "aria-live": "assertive" });
  const submit = h("button", { type: "submit" }, editing ? "Save changes" : "Create subscription");
  const form = h("form", { class: "card form", id: "subscription-form", novalidate: true },
    h("h2", { class: "visually-hidden" }, "Definition"),
    editing ? null : field("id", "Id", inputs.id, "Letters, digits, - and _; fixed once created."),
    !editing && session.role === "operator" ? field("account", "Account", inputs.account, "The account the subscription belongs to.") : null,
    field("name", "Name", inputs.name),
    field("url", "Endpoint URL", inputs.url, "Where the signed webhooks are POSTed."),
    events,
    h("fieldset", { class: "field group" }, h("legend", {}, "Filters"),
      h("p", { class: "hint" }, "Leave a list empty to deliver every vehicle's events. Separate entries with commas or new lines."),
      field("vehicles", "Vehicles", inputs.vehicles),
      accepts("vehicleGroups") ? field("vehicleGroups", "Vehicle groups", inputs.vehicleGroups, "Sites or depots, by name.") : null,
      field("geofenceTags", "Geofence tags", inputs.geofenceTags, "Geofence events only of fences with one of these tags.")),
    radios("format", "Format", [["json", "JSON (application/json)"], ["form", "Form (application/x-www-form-urlencoded)"]], cur.format),
    radios("payload", "Payload", [["full", "Full event"], ["minimal", "Minimal (ids, type, time; fetch the rest)"]], cur.payload),
    radios("ordering", "Ordering", [["subscription", "One at a time, in order"], ["vehicle", "In order per vehicle, vehicles in parallel"]], cur.ordering),
    field("maxInFlight", "Vehicles in flight", inputs.maxInFlight, "With per-vehicle ordering: how many vehicles' events may be in flight at once (empty: default)."),
    h("fieldset", { class: "field group" }, h("legend", {}, "Auth header"),
      h("p", { class: "hint" }, "An extra header sent with every delivery, besides the signature. ",
        editing && cur.authHeader ? "Its value is never shown; leave it empty to keep it." : ""),
      field("authHeader", "Header name", inputs.authHeader),
      field("auth", "Header value", inputs.authValue)),
    field("retrySchedule", "Retry schedule", inputs.retrySchedule, "Waits before each next attempt of a failed event; the last one repeats."),
    editing ? null : field("secret", "Signing secret", inputs.secret, "whsec_… (Standard Webhooks); generated when empty and shown once."),
    msg,
    h("div", { class: "button-row" }, submit,
      h("a", { class: "button secondary", href: editing ? "#/subscriptions/" + encodeURIComponent(id) : "#/subscriptions" }, "Cancel")));

  const radioValue = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
    for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
    replace(msg);
    const body = {
      name: inputs.name.value.trim(),
      url: inputs.url.value.trim(),
      events: allBox.checked ? ["*"] : typeBoxes.filter((b) => b.checked).map((b) => b.value),
      vehicles: list(inputs.vehicles.value),
      geofenceTags: list(inputs.geofenceTags.value),
      format: radioValue("format"),
      payload: radioValue("payload"),
      ordering: radioValue("ordering"),
      retrySchedule: list(inputs.retrySchedule.value),
    };
    if (accepts("vehicleGroups") && fields.has("vehicleGroups")) body.vehicleGroups = list(inputs.vehicleGroups.value);
    if (inputs.maxInFlight.value !== "") body.maxInFlight = Number(inputs.maxInFlight.value);
    const header = inputs.authHeader.value.trim();
    if (inputs.authValue.value || header !== (cur.authHeader || "")) {
      body.auth = { header, value: inputs.authValue.value };
    }
    if (!editing) {
      if (inputs.id.value.trim()) body.id = inputs.id.value.trim();
      if (session.role === "operator" && inputs.account.value.trim()) body.account = inputs.account.value.trim();
      if (inputs.secret.value) body.secret = inputs.secret.value;
    }
    if (!body.events.length) {
      showFieldError(form, "events", "choose at least one event type, or all");
      return;
    }
    submit.disabled = true;
    try {
      const out = editing ? await api.patch(id, body) : await api.create(body);
      announce(editing ? "Saved" : "Subscription created");
      if (!editing && out.secret) {
        replace(el,
          h("div", { class: "page-head" }, h("h1", {}, "Subscription created")),
          h("div", { class: "card" }, secretBox(out.secret),
            h("p", {}, h("a", { class: "button", href: "#/subscriptions/" + encodeURIComponent(out.id) }, "Open " + (out.name || out.id)))));
        return;
      }
      location.hash = "#/subscriptions/" + encodeURIComponent(out.id);
    } catch (err) {
      replace(msg, errorBox(err));
      if (err instanceof ApiError) {
        for (const [f, detail] of Object.entries(err.fields)) showFieldError(form, f, detail);
      }
      const first = form.querySelector("[aria-invalid]");
      (first || msg).focus?.();
    } finally {
      submit.disabled = false;
    }
  });

  replace(el,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/subscriptions" }, "Subscriptions"), " / ",
      editing ? [h("a", { href: "#/subscriptions/" + encodeURIComponent(id) }, id), " / edit"] : "new"),
    h("div", { class: "page-head" }, h("h1", {}, editing ? "Edit " + (cur.name || cur.id) : "New subscription")),
    form);
  (editing ? inputs.name : inputs.url).focus();
}

// showFieldError marks a field named by the API ("events[2]" → events).
function showFieldError(form, field, detail) {
  const base = field.replace(/\[\d+\]$/, "").replace(/\..*$/, "");
  const box = form.querySelector(`[data-field="${CSS.escape(base)}"]`);
  if (!box) return;
  const err = box.querySelector(".field-error");
  if (err) err.textContent = (err.textContent ? err.textContent + "; " : "") + (field !== base ? field + ": " : "") + detail;
  const input = box.querySelector("input, textarea, select");
  input?.setAttribute("aria-invalid", "true");
}
