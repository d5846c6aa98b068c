/** The comparison as a text table, a Markdown table and a small SVG chart (cumulative regret and explore rate). */
import type { VariantSummary } from './metrics';
import type { RunResult } from './runner';

const fmt = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function rows(result: RunResult): string[][] {
  return result.variants.map((v) => [
    v.variant,
    String(v.decisions),
    String(v.cumulativeReward),
    fmt(v.expectedReward / Math.max(1, v.decisions)),
    fmt(v.cumulativeRegret, 1),
    fmt(v.regretPerDecision, 4),
    fmt(v.regretRatioToRandom, 2),
    pct(v.exploreRate),
    pct(v.coldStartRate),
    `${v.newItems.shown}/${v.newItems.graduated}/${v.newItems.arrived}`,
    v.newItems.medianDecisionsToGraduate === null ? '—' : String(v.newItems.medianDecisionsToGraduate),
    ...(v.replay ? [fmt(v.replay.ipsClicksPerDecision, 4)] : []),
  ]);
}

function header(result: RunResult): string[] {
  const h = [
    'variant',
    'decisions',
    'clicks',
    'E[clicks]/dec',
    'cum. regret',
    'regret/dec',
    'vs random',
    'exploreRate',
    'coldStartRate',
    'new items shown/grad./arrived',
    'median dec. to graduate',
  ];
  if (result.variants.some((v) => v.replay)) h.push('replay IPS clicks/dec');
  return h;
}

export function textTable(result: RunResult): string {
  const all = [header(result), ...rows(result)];
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function markdownTable(result: RunResult): string {
  const h = header(result);
  return [
    `| ${h.join(' | ')} |`,
    `|${h.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows(result).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#7f7f7f', '#8c564b', '#e377c2'];

/** Two panels: cumulative regret per decision index, and the explore rate per window. */
export function svgChart(result: RunResult): string {
  const W = 760;
  const H = 300;
  const pad = { l: 60, r: 170, t: 30, b: 40 };
  const panel = (
    title: string,
    value: (v: VariantSummary, i: number) => number,
    x0: number,
    width: number,
    yLabel: string,
  ) => {
    const maxX = result.decisions;
    const maxY = Math.max(1e-9, ...result.variants.flatMap((v) => v.series.map((_, i) => value(v, i))));
    const sx = (x: number) => x0 + (x / maxX) * width;
    const sy = (y: number) => pad.t + (1 - y / maxY) * (H - pad.t - pad.b);
    const parts = [`<text x="${x0 + width / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`];
    parts.push(
      `<line x1="${x0}" y1="${sy(0)}" x2="${x0 + width}" y2="${sy(0)}" stroke="#333"/><line x1="${x0}" y1="${pad.t}" x2="${x0}" y2="${sy(0)}" stroke="#333"/>`,
    );
    for (const f of [0, 0.5, 1]) {
      parts.push(`<text x="${x0 - 4}" y="${sy(f * maxY) + 4}" text-anchor="end">${(f * maxY).toPrecision(3)}</text>`);
      parts.push(`<text x="${sx(f * maxX)}" y="${H - pad.b + 16}" text-anchor="middle">${Math.round(f * maxX)}</text>`);
    }
    parts.push(`<text x="${x0 + width / 2}" y="${H - 6}" text-anchor="middle">decisions (all variants)</text>`);
    parts.push(`<text x="${x0 - 45}" y="${pad.t - 8}">${yLabel}</text>`);
    result.variants.forEach((v, k) => {
      const pts = [
        `${sx(0)},${sy(0)}`,
        ...v.series.map((p, i) => `${sx(p.upTo).toFixed(1)},${sy(value(v, i)).toFixed(1)}`),
      ];
      parts.push(
        `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`,
      );
    });
    return parts.join('\n');
  };
  const width = (W - pad.l - pad.r - 60) / 2;
  const legend = result.variants
    .map(
      (v, k) =>
        `<rect x="${W - pad.r + 15}" y="${pad.t + k * 18}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/><text x="${W - pad.r + 32}" y="${pad.t + k * 18 + 10}">${v.variant}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel('Cumulative regret vs oracle', (v, i) => v.series[i].cumulativeRegret, pad.l, width, 'regret'),
    panel('exploreRate per window', (v, i) => v.series[i].exploreRate, pad.l + width + 60, width, 'rate'),
    legend,
    `<text x="${pad.l}" y="${H - 22}" fill="#555" font-size="9">${escapeXml(`${result.world.world}, ${result.decisions} decisions`)}</text>`,
    '</svg>',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
