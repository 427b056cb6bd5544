// The /v1 API, called with the token kept in this tab's sessionStorage.

const TOKEN = "fleetwire.token";
const ROLE = "fleetwire.role";
const ACCOUNT = "fleetwire.account";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN) || ""; },
  get role() { return sessionStorage.getItem(ROLE) || ""; },
  // account is the account an operator looks at ("" for all, where allowed).
  get account() { return sessionStorage.getItem(ACCOUNT) || ""; },
  set account(v) {
    if (v) sessionStorage.setItem(ACCOUNT, v);
    else sessionStorage.removeItem(ACCOUNT);
  },
  get canWrite() { return this.role === "admin" || this.role === "operator"; },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ROLE);
    sessionStorage.removeItem(ACCOUNT);
  },
};

// ApiError is an RFC 9457 problem (or a network failure, status 0).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || "HTTP " + status);
    this.status = status;
    this.problem = problem;
  }
  // fields maps each field at fault to its detail.
  get fields() {
    const out = {};
    for (const e of this.problem.errors || []) out[e.field] = e.detail;
    return out;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

// call sends one request; body is sent as JSON. It returns the decoded
// answer (null for 204) or throws ApiError.
export async function call(method, path, body, opts = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const token = opts.token ?? session.token;
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal: opts.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { title: "Network error", detail: "the server did not answer: " + err.message });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const problem = data && typeof data === "object" ? data : { title: res.statusText, detail: text.slice(0, 300) };
    const err = new ApiError(res.status, problem);
    if (res.status === 401 && !opts.token) onUnauthorized(err);
    throw err;
  }
  return data;
}

// withAccount adds ?account= for operators who chose one.
export function withAccount(path, params = {}) {
  const q = new URLSearchParams();
  if (session.role === "operator" && session.account) q.set("account", session.account);
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? path + (path.includes("?") ? "&" : "?") + s : path;
}

// signIn checks a token and finds its role: /v1/streams answers operators
// only, /v1/tokens admins and operators.
export async function signIn(token) {
  await call("GET", "/v1/subscriptions", undefined, { token });
  let role = "viewer";
  try {
    await call("GET", "/v1/streams", undefined, { token });
    role = "operator";
  } catch (err) {
    if (err.status !== 403) throw err;
    try {
      await call("GET", "/v1/tokens", undefined, { token });
      role = "admin";
    } catch (err2) {
      if (err2.status !== 403) throw err2;
    }
  }
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.setItem(ROLE, role);
  return role;
}

const sub = (id) => "/v1/subscriptions/" + encodeURIComponent(id);

export const api = {
  subscriptions: () => call("GET", "/v1/subscriptions"),
  subscription: (id) => call("GET", sub(id)),
  status: (id) => call("GET", sub(id) + "/status"),
  create: (body) => call("POST", "/v1/subscriptions", body),
  patch: (id, body) => call("PATCH", sub(id), body),
  remove: (id) => call("DELETE", sub(id)),
  pause: (id) => call("POST", sub(id) + "/pause"),
  resume: (id) => call("POST", sub(id) + "/resume"),
  replay: (id, since) => call("POST", sub(id) + "/replay", { since }),
  test: (id, type) => call("POST", sub(id) + "/test", { type }),
  rotate: (id, overlap) => call("POST", sub(id) + "/rotate-secret", { overlap }),
  deliveries: (id, params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
    const s = q.toString();
    return call("GET", sub(id) + "/deliveries" + (s ? "?" + s : ""));
  },
  delivery: (id, eventId, vehicle) =>
    call("GET", sub(id) + "/deliveries/" + encodeURIComponent(eventId) + (vehicle ? "?vehicle=" + encodeURIComponent(vehicle) : "")),
  vehicles: () => call("GET", withAccount("/v1/vehicles", { limit: 1000 })),
  geofences: () => call("GET", withAccount("/v1/geofences")),
};

// catalogue is the event types (static/catalogue.json, generated from
// shared/event.Catalogue).
let cataloguePromise;
export function catalogue() {
  cataloguePromise ??= fetch("catalogue.json", { cache: "no-cache" })
    .then((r) => r.json())
    .then((c) => c.types);
  return cataloguePromise;
}

// subscriptionSchema is the API's own description of subscription fields
// (from /v1/openapi.json), so the form offers only what the API accepts.
let schemaPromise;
export function subscriptionFields() {
  schemaPromise ??= fetch("/v1/openapi.json", { cache: "no-cache" })
    .then((r) => (r.ok ? r.json() : {}))
    .then((doc) => {
      const names = new Set();
      const schemas = doc?.components?.schemas || {};
      for (const [name, s] of Object.entries(schemas)) {
        if (!/^Subscription(Input|Patch)$/.test(name)) continue;
        for (const p of Object.keys(s.properties || {})) names.add(p);
      }
      return names;
    })
    .catch(() => new Set());
  return schemaPromise;
}
