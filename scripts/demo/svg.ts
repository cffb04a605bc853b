import type { DemoReport } from "./report";

/**
 * reports/demo.svg, drawn by hand (a plain SVG string): the top panel plots each loan's measured utilization (left
 * axis) against its coupon (right axis) over the story's days, with the 90% and 60% rule thresholds; the bottom panel
 * plots sUSDai's price, marking the points where a loss moved it.
 */

const WIDTH = 960;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 70, right: 80, top: 40, bottom: 40 };
const GAP = 70;
const COLORS = {
  A: "#1f77b4",
  B: "#d62728",
  price: "#2ca02c",
  loss: "#9467bd",
  grid: "#e0e0e0",
  text: "#333",
};

interface Panel {
  top: number;
  x(day: number): number;
  y(value: number): number;
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function path(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
}

function panel(top: number, maxDay: number, min: number, max: number): Panel {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  return {
    top,
    x: (day) => MARGIN.left + (day / maxDay) * plotWidth,
    y: (value) => top + PANEL_HEIGHT - ((value - min) / (max - min)) * PANEL_HEIGHT,
  };
}

function xAxis(p: Panel, maxDay: number): string {
  const out: string[] = [];
  for (let day = 0; day <= maxDay; day += 30) {
    const x = p.x(day);
    out.push(
      `<line x1="${x}" y1="${p.top}" x2="${x}" y2="${p.top + PANEL_HEIGHT}" stroke="${COLORS.grid}"/>`,
    );
    if (day % 90 === 0) {
      out.push(
        `<text x="${x}" y="${p.top + PANEL_HEIGHT + 16}" text-anchor="middle" font-size="11" fill="${COLORS.text}">${day}</text>`,
      );
    }
  }
  out.push(
    `<text x="${MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2}" y="${p.top + PANEL_HEIGHT + 32}" text-anchor="middle" font-size="12" fill="${COLORS.text}">day (month = 30 days)</text>`,
  );
  return out.join("\n");
}

function yAxis(
  p: Panel,
  ticks: number[],
  label: (v: number) => string,
  side: "left" | "right",
  title: string,
): string {
  const x = side === "left" ? MARGIN.left : WIDTH - MARGIN.right;
  const anchor = side === "left" ? "end" : "start";
  const dx = side === "left" ? -6 : 6;
  const out = ticks.map(
    (v) =>
      `<text x="${x + dx}" y="${p.y(v) + 4}" text-anchor="${anchor}" font-size="11" fill="${COLORS.text}">${label(v)}</text>`,
  );
  if (side === "left") {
    out.push(
      ...ticks.map(
        (v) =>
          `<line x1="${MARGIN.left}" y1="${p.y(v)}" x2="${WIDTH - MARGIN.right}" y2="${p.y(v)}" stroke="${COLORS.grid}"/>`,
      ),
    );
  }
  const tx = side === "left" ? 18 : WIDTH - 14;
  const ty = p.top + PANEL_HEIGHT / 2;
  out.push(
    `<text x="${tx}" y="${ty}" transform="rotate(-90 ${tx} ${ty})" text-anchor="middle" font-size="12" fill="${COLORS.text}">${esc(title)}</text>`,
  );
  return out.join("\n");
}

function legend(x: number, y: number, items: { color: string; label: string; dash?: boolean }[]): string {
  return items
    .map(
      (item, i) =>
        `<line x1="${x}" y1="${y + i * 16}" x2="${x + 22}" y2="${y + i * 16}" stroke="${item.color}" stroke-width="2"${item.dash ? ' stroke-dasharray="5,3"' : ""}/>` +
        `<text x="${x + 28}" y="${y + i * 16 + 4}" font-size="11" fill="${COLORS.text}">${esc(item.label)}</text>`,
    )
    .join("\n");
}

/** The chart as an SVG document. */
export function renderChart(
  report: DemoReport,
  observations: Record<string, { day: number; bps: number }[]>,
): string {
  const lastDay = Math.max(...report.priceSeries.map((p) => p.day), 1);
  const maxDay = Math.ceil(lastDay / 30) * 30;
  const body: string[] = [];

  // ---- top panel: utilization (left, 0-100%) and coupon (right)
  const top = MARGIN.top;
  const coupons = report.couponHistory.map((c) => c.couponBps);
  const couponMin = Math.floor((Math.min(...coupons) - 100) / 100) * 100;
  const couponMax = Math.ceil((Math.max(...coupons) + 100) / 100) * 100;
  const util = panel(top, maxDay, 0, 10_000);
  const coupon = panel(top, maxDay, couponMin, couponMax);
  body.push(
    `<text x="${MARGIN.left}" y="${top - 14}" font-size="14" font-weight="bold" fill="${COLORS.text}">Utilization vs coupon</text>`,
  );
  body.push(xAxis(util, maxDay));
  body.push(
    yAxis(
      util,
      [0, 2_000, 4_000, 6_000, 8_000, 10_000],
      (v) => `${v / 100}%`,
      "left",
      "utilization (oracle median)",
    ),
  );
  const couponTicks: number[] = [];
  for (let v = couponMin; v <= couponMax; v += 100) couponTicks.push(v);
  body.push(yAxis(coupon, couponTicks, (v) => `${(v / 100).toFixed(0)}%`, "right", "coupon (annual)"));
  for (const threshold of [9_000, 6_000]) {
    body.push(
      `<line x1="${MARGIN.left}" y1="${util.y(threshold)}" x2="${WIDTH - MARGIN.right}" y2="${util.y(threshold)}" stroke="#999" stroke-dasharray="2,4"/>` +
        `<text x="${WIDTH - MARGIN.right - 4}" y="${util.y(threshold) - 4}" text-anchor="end" font-size="10" fill="#777">${threshold / 100}% rule</text>`,
    );
  }
  for (const label of ["A", "B"] as const) {
    const points = (observations[label] ?? []).map((o): [number, number] => [util.x(o.day), util.y(o.bps)]);
    if (points.length > 0) {
      body.push(
        `<path d="${path(points)}" fill="none" stroke="${COLORS[label]}" stroke-width="1.5" opacity="0.8"/>`,
      );
      body.push(
        ...points.map(
          ([x, y]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="1.8" fill="${COLORS[label]}"/>`,
        ),
      );
    }
    const history = report.couponHistory.filter((c) => c.loan === label);
    const loan = report.loans.find((l) => l.label === label);
    const performing = loan?.performing ?? true;
    const defaulted = report.chapters[`default${label}`] as { day: number } | undefined;
    const end = performing ? lastDay : (defaulted?.day ?? lastDay);
    const steps: [number, number][] = [];
    for (const [i, c] of history.entries()) {
      if (i > 0) steps.push([coupon.x(c.day), coupon.y(history[i - 1].couponBps)]);
      steps.push([coupon.x(c.day), coupon.y(c.couponBps)]);
    }
    if (history.length > 0) steps.push([coupon.x(end), coupon.y(history[history.length - 1].couponBps)]);
    body.push(
      `<path d="${path(steps)}" fill="none" stroke="${COLORS[label]}" stroke-width="2.5" stroke-dasharray="7,3"/>`,
    );
  }
  for (const c of report.couponHistory.filter((e) => e.event === "step-down" || e.event === "step-up")) {
    const x = coupon.x(c.day);
    const y = coupon.y(c.couponBps);
    // A step-down is labelled left of its step, below the line; a step-up right of it, above.
    const down = c.appliedDeltaBps < 0;
    body.push(
      `<text x="${(x + (down ? -4 : 4)).toFixed(1)}" y="${(y + (down ? 14 : -6)).toFixed(1)}" text-anchor="${down ? "end" : "start"}" font-size="10" fill="${COLORS[c.loan as "A" | "B"]}">` +
        `${esc(c.event)} ${c.appliedDeltaBps > 0 ? "+" : ""}${c.appliedDeltaBps} bps${c.topUpRequired ? ", top-up required" : ""}</text>`,
    );
  }
  // Bottom of the panel, right of the daily window: the emptiest corner of this story.
  const legendTop = top + PANEL_HEIGHT - 4 * 16 - 8;
  const legendLeft = util.x(150);
  body.push(
    `<rect x="${legendLeft - 6}" y="${legendTop - 12}" width="230" height="${4 * 16 + 8}" fill="#fff" opacity="0.85"/>`,
    legend(legendLeft, legendTop, [
      { color: COLORS.A, label: "loan A utilization (3 feeds)" },
      { color: COLORS.A, label: "loan A coupon", dash: true },
      { color: COLORS.B, label: "loan B utilization (signed reports)" },
      { color: COLORS.B, label: "loan B coupon", dash: true },
    ]),
  );

  // ---- bottom panel: sUSDai price
  const bottomTop = top + PANEL_HEIGHT + GAP;
  const prices = report.priceSeries.map((p) => p.priceFloat);
  const pad = (Math.max(...prices) - Math.min(...prices)) * 0.08 || 0.001;
  const pMin = Math.min(...prices) - pad;
  const pMax = Math.max(...prices) + pad;
  const price = panel(bottomTop, maxDay, pMin, pMax);
  body.push(
    `<text x="${MARGIN.left}" y="${bottomTop - 14}" font-size="14" font-weight="bold" fill="${COLORS.text}">sUSDai price (USDai per share)</text>`,
  );
  body.push(xAxis(price, maxDay));
  const priceTicks = Array.from({ length: 6 }, (_, i) => pMin + ((pMax - pMin) * i) / 5);
  body.push(yAxis(price, priceTicks, (v) => v.toFixed(4), "left", "USDai per sUSDai"));
  const pricePoints = report.priceSeries.map((p): [number, number] => [
    price.x(p.day),
    price.y(p.priceFloat),
  ]);
  body.push(`<path d="${path(pricePoints)}" fill="none" stroke="${COLORS.price}" stroke-width="2"/>`);
  for (const p of report.priceSeries.filter((s) => s.lossEvent)) {
    const x = price.x(p.day);
    const y = price.y(p.priceFloat);
    body.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${COLORS.loss}"/>` +
        `<text x="${(x + 6).toFixed(1)}" y="${(y + 14).toFixed(1)}" font-size="10" fill="${COLORS.loss}">${esc(p.label)}</text>`,
    );
  }
  // Defaults and step-ins, one label per day (a step-in follows its default at once).
  const marks: { day: number; priceFloat: number; label: string }[] = [];
  for (const p of report.priceSeries.filter((s) => /defaulted|stepped in/.test(s.label))) {
    const same = marks.find((m) => Math.abs(m.day - p.day) < 2);
    if (same) same.label += `, ${p.label.replace(/^loan \w+ /, "")}`;
    else marks.push({ day: p.day, priceFloat: p.priceFloat, label: p.label });
  }
  for (const m of marks) {
    const x = price.x(m.day);
    const y = price.y(m.priceFloat);
    body.push(
      `<line x1="${x.toFixed(1)}" y1="${(y - 26).toFixed(1)}" x2="${x.toFixed(1)}" y2="${(y - 4).toFixed(1)}" stroke="#777"/>` +
        `<text x="${x.toFixed(1)}" y="${(y - 30).toFixed(1)}" text-anchor="middle" font-size="10" fill="#555">${esc(m.label)}</text>`,
    );
  }
  body.push(
    legend(MARGIN.left + 12, bottomTop + 14, [
      { color: COLORS.price, label: "sUSDai price" },
      { color: COLORS.loss, label: "loss event (impairment or write-off)" },
    ]),
  );

  const height = bottomTop + PANEL_HEIGHT + MARGIN.bottom;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>GPU credit protocol demo: utilization, coupons and the sUSDai price over ${report.months.length} months</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}
