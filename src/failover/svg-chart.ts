/**
 * The cumulative distributions of several timeout ranges on one SVG chart,
 * as Figure 16 of the Raft paper's extended version (§9.3) draws them: x is
 * the time without a leader (ms), y the cumulative percentage of rounds,
 * one step curve per range, axes with tick labels and a legend. Written by
 * hand: plain text, no dependencies. Pure.
 */
import { cdfPoints, niceCeiling } from "./cdf.ts";

export interface CdfSeries {
  /** Shown in the legend, e.g. "150-300 ms". */
  readonly label: string;
  /** The measured durations, in ms. */
  readonly values: readonly number[];
}

export interface SvgOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  /** The right end of the x axis (default: a round number at or above the largest value). */
  readonly maxMs?: number;
}

const colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const margin = { left: 60, right: 20, top: 40, bottom: 50 } as const;

/** `text` with the five XML special characters escaped. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[char] as string);
}

/** Two decimals at most, no trailing zeros: short, stable coordinates. */
const coordinate = (value: number): string => String(Math.round(value * 100) / 100);

/**
 * The points of one series' step curve in data units (ms, percent): from
 * (0, 0) along the axis to the first value, then up and across at each
 * value, ending at (maxMs, 100).
 */
export function stepCurve(values: readonly number[], maxMs: number): Array<readonly [number, number]> {
  const points: Array<readonly [number, number]> = [[0, 0]];
  let percent = 0;
  for (const point of cdfPoints(values)) {
    const x = Math.min(point.x, maxMs);
    points.push([x, percent], [x, point.percent]);
    percent = point.percent;
  }
  points.push([maxMs, percent]);
  return points;
}

/** The whole SVG document. */
export function cdfSvg(series: readonly CdfSeries[], options: SvgOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const largest = Math.max(1, ...series.flatMap((one) => one.values));
  const maxMs = options.maxMs ?? niceCeiling(largest);
  const px = (ms: number): number => margin.left + (ms / maxMs) * plotWidth;
  const py = (percent: number): number => margin.top + plotHeight - (percent / 100) * plotHeight;

  const parts: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title !== undefined) {
    parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  }

  // Grid, ticks and tick labels: ten steps on x, 0-100 % by 20 on y.
  parts.push(`<g class="ticks" font-size="11">`);
  for (let i = 0; i <= 10; i++) {
    const ms = (maxMs * i) / 10;
    const x = coordinate(px(ms));
    parts.push(`<line x1="${x}" y1="${py(0)}" x2="${x}" y2="${py(0) + 5}" stroke="black"/>`);
    parts.push(`<line x1="${x}" y1="${py(0)}" x2="${x}" y2="${py(100)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${py(0) + 18}" text-anchor="middle">${coordinate(ms)}</text>`);
  }
  for (let percent = 0; percent <= 100; percent += 20) {
    const y = coordinate(py(percent));
    parts.push(`<line x1="${margin.left - 5}" y1="${y}" x2="${margin.left}" y2="${y}" stroke="black"/>`);
    parts.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotWidth}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${coordinate(py(percent) + 4)}" text-anchor="end">${percent}%</text>`);
  }
  parts.push(`</g>`);
  // The axes over the grid lines.
  parts.push(`<g class="axes" stroke="black" fill="none">`);
  parts.push(`<line x1="${margin.left}" y1="${py(0)}" x2="${margin.left + plotWidth}" y2="${py(0)}"/>`);
  parts.push(`<line x1="${margin.left}" y1="${py(0)}" x2="${margin.left}" y2="${py(100)}"/>`);
  parts.push(`</g>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">time without leader (ms)</text>`);
  parts.push(
    `<text x="16" y="${margin.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotHeight / 2})">cumulative percent</text>`,
  );

  // One polyline per series, then the legend in the lower right corner.
  series.forEach((one, i) => {
    const colour = colours[i % colours.length] as string;
    const points = stepCurve(one.values, maxMs).map(([ms, percent]) => `${coordinate(px(ms))},${coordinate(py(percent))}`);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(" ")}"><title>${escapeXml(one.label)}</title></polyline>`);
  });
  const legendX = margin.left + plotWidth - 170;
  const legendY = py(0) - 20 - 18 * (series.length - 1);
  parts.push(`<g class="legend">`);
  series.forEach((one, i) => {
    const y = legendY + 18 * i;
    const colour = colours[i % colours.length] as string;
    parts.push(`<line x1="${legendX}" y1="${y - 4}" x2="${legendX + 24}" y2="${y - 4}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${legendX + 30}" y="${y}">${escapeXml(one.label)} (n=${one.values.length})</text>`);
  });
  parts.push(`</g>`, `</svg>`, ``);
  return parts.join("\n");
}
