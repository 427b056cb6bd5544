// The console's shell: sign-in, navigation and the hash router.
import { h, replace, announce } from "./dom.js";
import { session, signIn, setUnauthorizedHandler, ApiError } from "./api.js";
import { listPage, detailPage } from "./subscriptions.js";
import { formPage } from "./form.js";
import { livePage } from "./live.js";
import { mapPage } from "./map.js";

const main = document.getElementById("main");

// cleanup stops what the current page runs (timers, the live feed).
let cleanup = () => {};

const routes = [
  [/^#\/subscriptions\/?$/, "subscriptions", () => listPage],
  [/^#\/subscriptions\/new$/, "subscriptions", () => (el) => formPage(el, null)],
  [/^#\/subscriptions\/([^/]+)\/edit$/, "subscriptions", (m) => (el) => formPage(el, decodeURIComponent(m[1]))],
  [/^#\/subscriptions\/([^/]+)$/, "subscriptions", (m) => (el) => detailPage(el, decodeURIComponent(m[1]))],
  [/^#\/live$/, "live", () => livePage],
  [/^#\/map$/, "map", () => mapPage],
];

async function route() {
  cleanup();
  cleanup = () => {};
  if (!session.token) {
    showSignIn();
    return;
  }
  showSession();
  const hash = location.hash || "#/subscriptions";
  for (const [re, nav, page] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll("[data-nav]")) {
      if (a.dataset.nav === nav) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const view = h("div", { class: "page" });
    replace(main, view);
    try {
      const stop = await page(m)(view);
      if (typeof stop === "function") cleanup = stop;
    } catch (err) {
      if (err.name === "AbortError") return;
      replace(view, errorBox(err));
    }
    return;
  }
  location.replace("#/subscriptions");
}

// errorBox shows a problem: its title, detail and fields at fault.
export function errorBox(err) {
  const p = err instanceof ApiError ? err.problem : { title: "Error", detail: String(err.message || err) };
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, p.title || "Error"), p.status ? " (" + p.status + ")" : "",
    p.detail ? h("p", {}, p.detail) : null,
    (p.errors || []).length > 1 ? h("ul", {}, p.errors.map((e) => h("li", {}, h("code", {}, e.field), ": ", e.detail))) : null);
}

function showSignIn() {
  document.getElementById("nav").hidden = true;
  document.getElementById("session").hidden = true;
  const input = h("input", {
    id: "token", name: "token", type: "password", required: true, autocomplete: "off",
    spellcheck: "false", placeholder: "fwt_…", "aria-describedby": "token-help",
  });
  const msg = h("div", { "aria-live": "assertive" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", {
    class: "card signin", "aria-labelledby": "signin-title", method: "post",
    onsubmit: async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      replace(msg);
      try {
        await signIn(input.value.trim());
        announce("Signed in");
        route();
      } catch (err) {
        replace(msg, errorBox(err));
        input.focus();
      } finally {
        button.disabled = false;
      }
    },
  },
  h("h1", { id: "signin-title" }, "Sign in"),
  h("label", { for: "token" }, "API token"),
  input,
  h("p", { id: "token-help", class: "hint" },
    "A token made with ", h("code", {}, "fleetwire token create"),
    ". It is kept in this browser tab only (sessionStorage) and sent to this server's /v1 API."),
  msg,
  button);
  replace(main, form);
  input.focus();
}

function showSession() {
  document.getElementById("nav").hidden = false;
  document.getElementById("session").hidden = false;
  document.getElementById("role").textContent = session.role;
  document.getElementById("role").title = "the token's role";
  const box = document.getElementById("account-box");
  box.hidden = session.role !== "operator";
  const acc = document.getElementById("account");
  acc.value = session.account;
}

// rememberAccounts offers the accounts an operator has seen.
export function rememberAccounts(accounts) {
  const dl = document.getElementById("accounts");
  replace(dl, [...new Set(accounts)].sort().map((a) => h("option", { value: a })));
  if (session.role === "operator" && !session.account && accounts.length) {
    session.account = [...accounts].sort()[0];
    document.getElementById("account").value = session.account;
  }
}

document.getElementById("account").addEventListener("change", (ev) => {
  session.account = ev.target.value.trim();
  route();
});
document.getElementById("signout").addEventListener("click", () => {
  session.clear();
  announce("Signed out");
  location.hash = "#/subscriptions";
  route();
});
setUnauthorizedHandler(() => {
  session.clear();
  route();
});
window.addEventListener("hashchange", () => {
  route();
  main.focus({ preventScroll: true });
});
route();
