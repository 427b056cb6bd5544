// A map of the account's geofences and its vehicles' last positions, drawn
// as SVG in a Web Mercator projection: no tiles (the console works offline),
// no map library.
import { h, svg, replace, timeEl, ago } from "./dom.js";
import { api, session } from "./api.js";
import { errorBox } from "./app.js";

const W = 1000;
const H = 620;
const R = 6378137; // Web Mercator sphere
const REFRESH_MS = 10000;

const merc = ([lon, lat]) => {
  const la = Math.max(Math.min(lat, 85), -85) * Math.PI / 180;
  return [R * lon * Math.PI / 180, R * Math.log(Math.tan(Math.PI / 4 + la / 2))];
};

// circle approximates a circle of radius metres around [lon, lat].
function circle([lon, lat], radius, n = 72) {
  const d = radius / 6371008.8;
  const la1 = lat * Math.PI / 180;
  const lo1 = lon * Math.PI / 180;
  const out = [];
  for (let i = 0; i <= n; i++) {
    const b = 2 * Math.PI * i / n;
    const la2 = Math.asin(Math.sin(la1) * Math.cos(d) + Math.cos(la1) * Math.sin(d) * Math.cos(b));
    const lo2 = lo1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(la1), Math.cos(d) - Math.sin(la1) * Math.sin(la2));
    out.push([lo2 * 180 / Math.PI, la2 * 180 / Math.PI]);
  }
  return out;
}

// shapes turns a fence Feature into rings (polygons) and lines (corridors).
function shapes(f) {
  const g = f.geometry || {};
  const p = f.properties || {};
  switch (g.type) {
    case "Polygon": return { kind: "polygon", rings: g.coordinates };
    case "MultiPolygon": return { kind: "polygon", rings: g.coordinates.flat() };
    case "Point": return { kind: "circle", rings: [circle(g.coordinates, Number(p.radius) || 50)], center: g.coordinates };
    case "LineString": return { kind: "corridor", lines: [g.coordinates], buffer: Number(p.bufferMeters) || 20 };
    case "MultiLineString": return { kind: "corridor", lines: g.coordinates, buffer: Number(p.bufferMeters) || 20 };
  }
  return null;
}

export async function mapPage(el) {
  const figure = h("figure", { class: "map card" });
  const side = h("div", { class: "map-side" });
  const err = h("div", {});
  replace(el,
    h("div", { class: "page-head" }, h("h1", {}, "Map"),
      h("p", { class: "muted" }, "Geofences and each vehicle's last reported position. No background map: the console needs no internet.")),
    err,
    h("div", { class: "map-grid" }, figure, side));
  if (session.role === "operator" && !session.account) {
    replace(err, h("p", { class: "error", role: "alert" }, "Operator tokens see every account: choose one in the Account box above."));
    return undefined;
  }
  let view = null; // the current viewBox, kept across refreshes
  const load = async () => {
    try {
      const [fc, vs] = await Promise.all([api.geofences(), api.vehicles()]);
      const fences = (fc.features || []).map((f) => ({ f, s: shapes(f) })).filter((x) => x.s);
      const vehicles = (vs.items || []).filter((v) => v.lastPosition);
      replace(err);
      view = draw(figure, fences, vehicles, view);
      replace(side, tables(fences.map((x) => x.f), vs.items || []));
    } catch (e) {
      replace(err, errorBox(e));
    }
  };
  await load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}

function draw(figure, fences, vehicles, keep) {
  // Bounds of everything, in projected metres.
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const add = ([x, y]) => {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  };
  for (const { s } of fences) {
    for (const r of s.rings || []) r.forEach((c) => add(merc(c)));
    for (const l of s.lines || []) l.forEach((c) => add(merc(c)));
  }
  for (const v of vehicles) add(merc([v.lastPosition.lon, v.lastPosition.lat]));
  if (!Number.isFinite(minX)) {
    replace(figure, h("p", { class: "muted empty" }, "No geofences and no vehicle positions yet."));
    return null;
  }
  // Fit with a margin, at least 1 km across, preserving the aspect ratio.
  let w = Math.max(maxX - minX, 1000);
  let hgt = Math.max(maxY - minY, 1000);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  if (w / hgt > W / H) hgt = w * H / W;
  else w = hgt * W / H;
  w *= 1.15;
  hgt *= 1.15;
  const scale = W / w; // px per projected metre
  const px = (c) => {
    const [x, y] = merc(c);
    return [(x - (cx - w / 2)) * scale, ((cy + hgt / 2) - y) * scale];
  };
  const pts = (ring) => ring.map((c) => px(c).map((n) => n.toFixed(1)).join(",")).join(" ");
  const path = (rings) => rings.map((r) => "M" + pts(r).replaceAll(" ", "L") + "Z").join("");

  const layerFences = svg("g", { class: "fences" });
  const layerLabels = svg("g", { class: "labels" });
  fences.forEach(({ f, s }, i) => {
    const p = f.properties || {};
    const name = p.name || p.id || f.id || "fence " + (i + 1);
    const tags = Array.isArray(p.tags) ? p.tags : [];
    const cls = "fence fence-" + s.kind + (tags.includes("low-emission-zone") ? " lez" : "");
    const title = svg("title", {}, name + (tags.length ? " (" + tags.join(", ") + ")" : "") + " — " + s.kind);
    let shape;
    if (s.kind === "corridor") {
      // A corridor's buffer in pixels at its latitude.
      const lat = s.lines[0][0][1] * Math.PI / 180;
      const width = Math.max(2 * s.buffer * scale / Math.cos(lat), 2);
      shape = svg("g", { class: cls }, title, s.lines.map((l) => svg("polyline", { points: pts(l), "stroke-width": width.toFixed(1) })));
    } else {
      shape = svg("path", { class: cls, d: path(s.rings), "fill-rule": "evenodd" }, title);
    }
    layerFences.append(shape);
    // Label at the middle of the shape's box.
    const all = (s.rings || s.lines).flat().map(px);
    const lx = (Math.min(...all.map((q) => q[0])) + Math.max(...all.map((q) => q[0]))) / 2;
    const ly = (Math.min(...all.map((q) => q[1])) + Math.max(...all.map((q) => q[1]))) / 2;
    layerLabels.append(svg("text", { x: lx.toFixed(1), y: ly.toFixed(1), class: "fence-label", "text-anchor": "middle" }, name));
  });

  const layerVehicles = svg("g", { class: "vehicles" });
  for (const v of vehicles) {
    const [x, y] = px([v.lastPosition.lon, v.lastPosition.lat]);
    const label = v.name || v.id;
    const heading = v.lastPosition.headingDeg || 0;
    const moving = (v.lastPosition.speedKph || 0) > 1;
    layerVehicles.append(svg("g", {
      class: "vehicle link-" + v.linkState, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`, tabindex: "0", role: "img",
      "aria-label": `${label}: ${v.lastPosition.lat.toFixed(5)}, ${v.lastPosition.lon.toFixed(5)}, last seen ${ago(v.lastSeenAt)}`,
    },
    svg("title", {}, `${label} (${v.id})\n${v.lastEventType} ${ago(v.lastEventAt)}\n${Math.round(v.lastPosition.speedKph || 0)} km/h`),
    moving ? svg("path", { class: "heading", d: "M0,-15 L5,-7 L-5,-7 Z", transform: `rotate(${heading})` }) : null,
    svg("circle", { r: 7 }),
    svg("text", { x: 11, y: 4, class: "vehicle-label" }, label)));
  }

  // Scale bar: a round distance near 150 px.
  const midLat = Math.atan(Math.sinh(cy / R));
  const mPerPx = Math.cos(midLat) / scale;
  const target = 150 * mPerPx;
  const pow = 10 ** Math.floor(Math.log10(target));
  const dist = [1, 2, 5, 10].map((k) => k * pow).filter((d) => d <= target).pop();
  const barPx = dist / mPerPx;
  const scaleBar = svg("g", { class: "scalebar", transform: `translate(20,${H - 24})` },
    svg("rect", { x: -6, y: -20, width: barPx + 12, height: 30, rx: 4 }),
    svg("path", { d: `M0,0 L0,6 L${barPx.toFixed(1)},6 L${barPx.toFixed(1)},0` }),
    svg("text", { x: (barPx / 2).toFixed(1), y: -4, "text-anchor": "middle" }, dist >= 1000 ? dist / 1000 + " km" : dist + " m"));

  const world = svg("g", { class: "world" }, layerFences, layerLabels, layerVehicles);
  const root = svg("svg", { viewBox: keep || `0 0 ${W} ${H}`, class: "map-svg", id: "map", role: "group", "aria-labelledby": "map-caption" },
    svg("rect", { class: "sea", x: -1e5, y: -1e5, width: 2e5, height: 2e5 }), world);
  const overlay = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "map-overlay", "aria-hidden": "true" }, scaleBar,
    svg("text", { x: W - 12, y: H - 10, "text-anchor": "end", class: "attribution" }, "Web Mercator · north up"));
  const wrap = h("div", { class: "map-wrap" }, root, overlay);

  // Zoom and pan by changing the viewBox (the scale bar is for the fitted view).
  let vb = (keep || `0 0 ${W} ${H}`).split(" ").map(Number);
  const setVB = () => {
    root.setAttribute("viewBox", vb.map((n) => n.toFixed(2)).join(" "));
    overlay.style.visibility = vb[2] === W ? "visible" : "hidden";
  };
  const zoom = (f, fx = 0.5, fy = 0.5) => {
    const nw = vb[2] * f, nh = vb[3] * f;
    vb = [vb[0] + (vb[2] - nw) * fx, vb[1] + (vb[3] - nh) * fy, nw, nh];
    setVB();
  };
  root.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = root.getBoundingClientRect();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
  }, { passive: false });
  let drag = null;
  root.addEventListener("pointerdown", (ev) => { drag = [ev.clientX, ev.clientY]; root.setPointerCapture(ev.pointerId); });
  root.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const r = root.getBoundingClientRect();
    vb[0] -= (ev.clientX - drag[0]) * vb[2] / r.width;
    vb[1] -= (ev.clientY - drag[1]) * vb[3] / r.height;
    drag = [ev.clientX, ev.clientY];
    setVB();
  });
  root.addEventListener("pointerup", () => { drag = null; });
  setVB();

  const controls = h("div", { class: "map-controls button-row" },
    h("button", { type: "button", class: "secondary", onclick: () => zoom(0.8) }, "Zoom in"),
    h("button", { type: "button", class: "secondary", onclick: () => zoom(1.25) }, "Zoom out"),
    h("button", { type: "button", class: "secondary", onclick: () => { vb = [0, 0, W, H]; setVB(); } }, "Fit all"));
  replace(figure, wrap,
    h("figcaption", { id: "map-caption" },
      h("span", {}, fences.length + " geofences, " + vehicles.length + " vehicles with a position."),
      h("span", { class: "legend" },
        h("span", { class: "key key-fence" }), "fence ",
        h("span", { class: "key key-lez" }), "low-emission zone ",
        h("span", { class: "key key-corridor" }), "route corridor ",
        h("span", { class: "key key-recent" }), "vehicle heard from in the last 3 min ",
        h("span", { class: "key key-silent" }), "silent"),
      controls));
  return vb.join(" ") === `0 0 ${W} ${H}` ? null : vb.join(" ");
}

function tables(fences, vehicles) {
  return [
    h("section", { class: "card", "aria-labelledby": "veh-h" },
      h("h2", { id: "veh-h" }, "Vehicles"),
      vehicles.length ? h("div", { class: "table-wrap" }, h("table", { class: "list compact", id: "vehicles" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Vehicle"),
          h("th", { scope: "col" }, "Last event"),
          h("th", { scope: "col" }, "Position"))),
        h("tbody", {}, vehicles.map((v) => h("tr", {},
          h("th", { scope: "row" }, v.name || v.id, v.name ? h("div", { class: "muted small" }, v.id) : null),
          h("td", {}, h("span", { class: "dot link-" + v.linkState, title: v.linkState, "aria-label": v.linkState }), " ",
            h("code", {}, v.lastEventType), h("div", { class: "muted small" }, timeEl(v.lastSeenAt, true))),
          h("td", { class: "mono small" }, v.lastPosition ? [v.lastPosition.lat.toFixed(5), h("br"), v.lastPosition.lon.toFixed(5)] : "—")))))) : h("p", { class: "muted" }, "No vehicle has sent an event yet.")),
    h("section", { class: "card", "aria-labelledby": "fence-h" },
      h("h2", { id: "fence-h" }, "Geofences"),
      fences.length ? h("ul", { class: "fence-list" }, fences.map((f) => {
        const p = f.properties || {};
        return h("li", {}, h("strong", {}, p.name || p.id || f.id), " ",
          h("span", { class: "muted small" }, (f.geometry?.type || "") + (Array.isArray(p.tags) && p.tags.length ? " · " + p.tags.join(", ") : "")));
      })) : h("p", { class: "muted" }, "No geofences.")),
  ];
}
