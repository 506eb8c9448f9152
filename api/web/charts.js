// Charts of the planner page, drawn as SVG elements (no library, no inline style, text set as text).
// AnnoplanCharts.xy(svg, spec): bands, lines and points on linear or log x axes;
// AnnoplanCharts.ranges(svg, spec): one horizontal P10-P90 range per row with its P50 and mean.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 460;
  const HEIGHT = 300;
  const MARGIN = { left: 64, right: 16, top: 30, bottom: 44 };

  function el(parent, name, attributes, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes || {})) {
      node.setAttribute(key, String(value));
    }
    if (text !== undefined) {
      node.textContent = String(text);
    }
    parent.appendChild(node);
    return node;
  }

  function reset(svg, title) {
    while (svg.firstChild) {
      svg.removeChild(svg.firstChild);
    }
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute("role", "img");
    el(svg, "title", {}, title);
    el(svg, "text", { x: WIDTH / 2, y: 18, "text-anchor": "middle", class: "chart-title" }, title);
  }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) {
      return [lo];
    }
    const raw = (hi - lo) / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Number(t.toPrecision(12)));
    }
    return ticks;
  }

  function logTicks(lo, hi) {
    const ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
      for (const m of [1, 2, 5]) {
        const t = m * Math.pow(10, e);
        if (t >= lo && t <= hi) {
          ticks.push(t);
        }
      }
    }
    return ticks;
  }

  function formatTick(value) {
    if (Math.abs(value) >= 1000) {
      return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
    }
    return String(Number(value.toPrecision(3)));
  }

  function extent(values, padding) {
    const finite = values.filter((v) => Number.isFinite(v));
    let lo = Math.min(...finite);
    let hi = Math.max(...finite);
    if (lo === hi) {
      lo -= Math.abs(lo) * 0.1 || 1;
      hi += Math.abs(hi) * 0.1 || 1;
    }
    const pad = (hi - lo) * padding;
    return [lo - pad, hi + pad];
  }

  // spec: {title, xlabel, ylabel, logX, series: [{kind: "band"|"line"|"points", x, y | lo+hi, color, dash,
  // label}], vlines: [{x, color, label}], hlines: [{y, color, label}]}
  function xy(svg, spec) {
    reset(svg, spec.title);
    const xs = [];
    const ys = [];
    for (const s of spec.series) {
      xs.push(...s.x);
      ys.push(...(s.kind === "band" ? s.lo.concat(s.hi) : s.y));
    }
    for (const v of spec.vlines || []) xs.push(v.x);
    for (const h of spec.hlines || []) ys.push(h.y);
    const positiveX = xs.filter((x) => x > 0);
    const [x0, x1] = spec.logX
      ? [Math.min(...positiveX) / 1.15, Math.max(...positiveX) * 1.15]
      : extent(xs, 0.02);
    const [y0, y1] = extent(ys, 0.05);
    const left = MARGIN.left;
    const right = WIDTH - MARGIN.right;
    const top = MARGIN.top;
    const bottom = HEIGHT - MARGIN.bottom;
    const sx = spec.logX
      ? (x) => left + ((Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0))) * (right - left)
      : (x) => left + ((x - x0) / (x1 - x0)) * (right - left);
    const sy = (y) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
    const axes = el(svg, "g", { class: "axes" });
    el(axes, "rect", { x: left, y: top, width: right - left, height: bottom - top, class: "plot-area" });
    for (const t of spec.logX ? logTicks(x0, x1) : niceTicks(x0, x1, 5)) {
      el(axes, "line", { x1: sx(t), x2: sx(t), y1: bottom, y2: bottom + 4, class: "tick" });
      el(axes, "text", { x: sx(t), y: bottom + 16, "text-anchor": "middle", class: "tick-label" }, formatTick(t));
    }
    for (const t of niceTicks(y0, y1, 5)) {
      el(axes, "line", { x1: left - 4, x2: left, y1: sy(t), y2: sy(t), class: "tick" });
      el(axes, "line", { x1: left, x2: right, y1: sy(t), y2: sy(t), class: "gridline" });
      el(axes, "text", { x: left - 6, y: sy(t) + 4, "text-anchor": "end", class: "tick-label" }, formatTick(t));
    }
    el(axes, "text", { x: (left + right) / 2, y: HEIGHT - 8, "text-anchor": "middle", class: "axis-label" }, spec.xlabel);
    el(
      axes,
      "text",
      { x: 14, y: (top + bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${(top + bottom) / 2})`, class: "axis-label" },
      spec.ylabel
    );
    const legend = [];
    for (const s of spec.series) {
      const group = el(svg, "g", { class: `series series-${s.kind}` });
      if (s.kind === "band") {
        const upper = s.x.map((x, i) => `${sx(x)},${sy(s.hi[i])}`);
        const lower = s.x.map((x, i) => `${sx(x)},${sy(s.lo[i])}`).reverse();
        el(group, "polygon", { points: upper.concat(lower).join(" "), fill: s.color, "fill-opacity": 0.35, stroke: "none" });
      } else if (s.kind === "line") {
        const points = s.x.map((x, i) => `${sx(x)},${sy(s.y[i])}`).join(" ");
        const attributes = { points, fill: "none", stroke: s.color, "stroke-width": 2 };
        if (s.dash) attributes["stroke-dasharray"] = "5 4";
        el(group, "polyline", attributes);
      } else {
        s.x.forEach((x, i) => el(group, "circle", { cx: sx(x), cy: sy(s.y[i]), r: 4, fill: s.color }));
      }
      if (s.label) legend.push(s);
    }
    for (const v of spec.vlines || []) {
      el(svg, "line", { x1: sx(v.x), x2: sx(v.x), y1: top, y2: bottom, stroke: v.color, "stroke-dasharray": "2 3", "stroke-width": 1.5 });
      if (v.label) legend.push({ color: v.color, label: v.label });
    }
    for (const h of spec.hlines || []) {
      el(svg, "line", { x1: left, x2: right, y1: sy(h.y), y2: sy(h.y), stroke: h.color, "stroke-dasharray": "6 3", "stroke-width": 1.5 });
      if (h.label) legend.push({ color: h.color, label: h.label });
    }
    const box = el(svg, "g", { class: "legend" });
    legend.forEach((item, i) => {
      const y = top + 12 + i * 14;
      el(box, "rect", { x: right - 150, y: y - 8, width: 10, height: 10, fill: item.color });
      el(box, "text", { x: right - 136, y: y + 1, class: "legend-label" }, item.label);
    });
  }

  // spec: {title, xlabel, rows: [{label, p10, p50, p90, mean, highlight}]}
  function ranges(svg, spec) {
    reset(svg, spec.title);
    const values = spec.rows.flatMap((r) => [r.p10, r.p50, r.p90, r.mean]);
    const [v0, v1] = extent(values.concat([0]), 0.04);
    const left = 120;
    const right = WIDTH - MARGIN.right;
    const top = MARGIN.top;
    const bottom = HEIGHT - MARGIN.bottom;
    const sx = (v) => left + ((v - v0) / (v1 - v0)) * (right - left);
    const rowHeight = (bottom - top) / Math.max(spec.rows.length, 1);
    for (const t of niceTicks(v0, v1, 5)) {
      el(svg, "line", { x1: sx(t), x2: sx(t), y1: top, y2: bottom, class: "gridline" });
      el(svg, "text", { x: sx(t), y: bottom + 16, "text-anchor": "middle", class: "tick-label" }, formatTick(t));
    }
    el(svg, "text", { x: (left + right) / 2, y: HEIGHT - 8, "text-anchor": "middle", class: "axis-label" }, spec.xlabel);
    spec.rows.forEach((row, i) => {
      const middle = top + rowHeight * (i + 0.5);
      const group = el(svg, "g", { class: row.highlight ? "range highlighted" : "range" });
      el(group, "text", { x: left - 8, y: middle + 4, "text-anchor": "end", class: "row-label" }, row.label);
      el(group, "rect", {
        x: sx(row.p10),
        y: middle - 9,
        width: Math.max(sx(row.p90) - sx(row.p10), 2),
        height: 18,
        fill: row.highlight ? "#08519c" : "#9ecae1",
        "fill-opacity": row.highlight ? 0.55 : 0.8,
      });
      el(group, "line", { x1: sx(row.p50), x2: sx(row.p50), y1: middle - 12, y2: middle + 12, stroke: "#222", "stroke-width": 2 });
      el(group, "circle", { cx: sx(row.mean), cy: middle, r: 3.5, fill: "#d94801" });
    });
  }

  window.AnnoplanCharts = { xy, ranges };
})();
