/** Showdown aggregation (mean ± sd over seeds, ratio to the NumPy LinFullPost reference), text/Markdown tables, SVG. */
import type { PolicyRun, ShowdownPolicy } from './runner';
import type { ReferenceResult, WorldFile } from './world';

export type ReferenceKey = 'linfullpost' | 'egreedy' | 'uniform' | 'lints';
export const REFERENCE_LABEL: Record<ReferenceKey, string> = {
  linfullpost: 'numpy LinFullPost',
  egreedy: 'numpy ε-greedy 0.05',
  uniform: 'numpy uniform',
  lints: 'numpy shared linear TS (interaction features; the counterpart of thompson-linear)',
};

export interface Row {
  /** a showdown policy or `numpy:<reference>` */
  policy: string;
  seeds: number;
  regretMean: number;
  regretSd: number;
  perSeed: number[];
  /** mean regret ÷ the NumPy LinFullPost reference's mean regret on the same seeds */
  ratioToLinFullPost: number;
  exploreFirst: number | null;
  exploreLast: number | null;
  /** mean over seeds of the per-slot exploreRate and the exploration's true cost per decision (runner.ts; absent: references, no posterior) */
  exploreBySlot?: { first: number[]; last: number[]; costFirst: number; costLast: number } | null;
  /** seeds in which the policy stopped showing an action that is optimal for ≥ 10 % of the decisions */
  abandoned: { seed: number; actions: string[] }[];
  /** mean cumulative regret after every checkpoint (for the chart) */
  curve: number[];
}

export interface WorldReport {
  world: string;
  description: string;
  source: string;
  licence: string;
  horizon: number;
  slots: number;
  stationary: boolean;
  learnable: boolean;
  rows: Row[];
}

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd };
}

function meanOrNull(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === xs.length && v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
}

function meanCurve(curves: number[][]): number[] {
  const len = Math.min(...curves.map((c) => c.length));
  return Array.from({ length: len }, (_, i) => curves.reduce((s, c) => s + c[i], 0) / curves.length);
}

/** The reference's result truncated to `horizon` decisions (quick runs): regret at the last checkpoint ≤ horizon. */
export function referenceAt(
  ref: ReferenceResult,
  horizon: number,
  checkpoint: number,
  full: number,
): { regret: number; curve: number[]; exploreFirst: number | null; exploreLast: number | null } {
  if (horizon >= full)
    return {
      regret: ref.regret,
      curve: ref.cumulativeRegret,
      exploreFirst: ref.exploreFirst,
      exploreLast: ref.exploreLast,
    };
  const n = Math.floor(horizon / checkpoint);
  return {
    regret: ref.cumulativeRegret[n - 1],
    curve: ref.cumulativeRegret.slice(0, n),
    exploreFirst: null,
    exploreLast: null,
  };
}

function meanExploreBySlot(list: PolicyRun[]): Row['exploreBySlot'] {
  const xs = list.map((r) => r.exploreBySlot).filter((x): x is NonNullable<PolicyRun['exploreBySlot']> => !!x);
  if (!xs.length || xs.length !== list.length) return null;
  const avg = (f: (x: (typeof xs)[number]) => number) => xs.reduce((s, x) => s + f(x), 0) / xs.length;
  return {
    first: xs[0].first.map((_, j) => avg((x) => x.first[j])),
    last: xs[0].last.map((_, j) => avg((x) => x.last[j])),
    costFirst: avg((x) => x.costFirst),
    costLast: avg((x) => x.costLast),
  };
}

export function buildWorldReport(
  world: WorldFile,
  seeds: number[],
  horizon: number,
  runs: Map<ShowdownPolicy, PolicyRun[]>,
): WorldReport {
  const chosenSeeds = world.seeds.filter((s) => seeds.includes(s.seed));
  // `lints` is optional (worlds generated before it existed); a reference is shown only when every seed has it.
  const refs = (Object.keys(REFERENCE_LABEL) as ReferenceKey[])
    .filter((key) => chosenSeeds.every((s) => s.references[key] !== undefined))
    .map((key) => {
      const per = chosenSeeds.map((s) => referenceAt(s.references[key]!, horizon, world.checkpoint, world.horizon));
      return { key, per };
    });
  const lin = meanSd(refs[0].per.map((p) => p.regret)).mean;
  const rows: Row[] = [];
  for (const [policy, list] of runs) {
    const { mean, sd } = meanSd(list.map((r) => r.regret));
    rows.push({
      policy,
      seeds: list.length,
      regretMean: mean,
      regretSd: sd,
      perSeed: list.map((r) => r.regret),
      ratioToLinFullPost: mean / lin,
      exploreFirst: meanOrNull(list.map((r) => r.exploreFirst)),
      exploreLast: meanOrNull(list.map((r) => r.exploreLast)),
      exploreBySlot: meanExploreBySlot(list),
      abandoned: list.filter((r) => r.abandoned.length).map((r) => ({ seed: r.seed, actions: r.abandoned })),
      curve: meanCurve(list.map((r) => r.cumulativeRegret)),
    });
  }
  for (const { key, per } of refs) {
    const { mean, sd } = meanSd(per.map((p) => p.regret));
    rows.push({
      policy: `numpy:${key}`,
      seeds: per.length,
      regretMean: mean,
      regretSd: sd,
      perSeed: per.map((p) => p.regret),
      ratioToLinFullPost: mean / lin,
      exploreFirst: meanOrNull(per.map((p) => p.exploreFirst)),
      exploreLast: meanOrNull(per.map((p) => p.exploreLast)),
      abandoned: referenceAbandoned(world, chosenSeeds, key, horizon),
      curve: meanCurve(per.map((p) => p.curve)),
    });
  }
  return {
    world: world.name,
    description: world.description,
    source: world.source,
    licence: world.licence,
    horizon,
    slots: world.slots,
    stationary: world.stationary,
    learnable: world.learnable !== false,
    rows,
  };
}

function referenceAbandoned(
  world: WorldFile,
  seeds: WorldFile['seeds'],
  key: ReferenceKey,
  horizon: number,
): { seed: number; actions: string[] }[] {
  if (horizon < world.horizon) return [];
  const names = world.actions ?? seeds[0].items?.map((i) => i.id) ?? [];
  return seeds
    .map((s) => ({
      seed: s.seed,
      actions: s.optimalShare
        .map((share, a) => (share >= 0.1 && s.references[key]!.lastWindowCounts[a] === 0 ? names[a] : null))
        .filter((x): x is string => x !== null),
    }))
    .filter((x) => x.actions.length);
}

/** The issue's acceptance checks for one Thompson policy, per world. */
export interface PolicyChecks {
  policy: string;
  worlds: {
    world: string;
    /** mean regret ≤ 1.0 × NumPy LinFullPost */
    ratioOk: boolean;
    /** below ranker greedy (null: the world has no ranker score or no learnable structure) */
    beatsRanker: boolean | null;
    /** below the TypeScript ε-greedy (ε = 0.05, linear model) */
    beatsEpsilonGreedy: boolean;
    /** below the NumPy ε-greedy reference */
    beatsNumpyEpsilonGreedy: boolean;
    noAbandoned: boolean;
    /** exploreRate of the last window < ½ of the first (null: non-stationary or not learnable world, or no posterior) */
    explorationFalls: boolean | null;
    /**
     * the regret-weighted counterpart (informational, not in allPass): the exploration's true cost per decision in the
     * last window < ½ of the first's (runner.ts exploreBySlot); null where explorationFalls is null
     */
    explorationCostFalls: boolean | null;
  }[];
  meanRatio: number;
  allPass: boolean;
}

export function checksFor(policy: string, reports: WorldReport[]): PolicyChecks {
  const worlds = reports.flatMap((w) => {
    const row = w.rows.find((r) => r.policy === policy);
    if (!row) return [];
    const ranker = w.rows.find((r) => r.policy === 'ranker');
    const eg = w.rows.find((r) => r.policy === 'epsilon-greedy');
    const npEg = w.rows.find((r) => r.policy === 'numpy:egreedy');
    const learnable = w.learnable !== false;
    const explorationFalls =
      !w.stationary || !learnable || row.exploreFirst === null || row.exploreLast === null
        ? null
        : row.exploreLast < row.exploreFirst / 2;
    const cost = row.exploreBySlot;
    const explorationCostFalls = explorationFalls === null || !cost ? null : cost.costLast < cost.costFirst / 2;
    return [
      {
        world: w.world,
        ratioOk: row.ratioToLinFullPost <= 1.0,
        beatsRanker: ranker && learnable ? row.regretMean < ranker.regretMean : null,
        beatsEpsilonGreedy: eg && learnable ? row.regretMean < eg.regretMean : true,
        beatsNumpyEpsilonGreedy: npEg && learnable ? row.regretMean < npEg.regretMean : true,
        noAbandoned: row.abandoned.length === 0,
        explorationFalls,
        explorationCostFalls,
      },
    ];
  });
  const ratios = reports
    .map((w) => w.rows.find((r) => r.policy === policy)?.ratioToLinFullPost)
    .filter((x): x is number => x !== undefined);
  return {
    policy,
    worlds,
    meanRatio: ratios.reduce((s, x) => s + x, 0) / Math.max(1, ratios.length),
    allPass: worlds.every(
      (w) =>
        w.ratioOk &&
        w.beatsRanker !== false &&
        w.beatsEpsilonGreedy &&
        w.beatsNumpyEpsilonGreedy &&
        w.noAbandoned &&
        w.explorationFalls !== false,
    ),
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

function tableRows(w: WorldReport): string[][] {
  return w.rows.map((r) => [
    r.policy,
    `${r.regretMean.toFixed(1)} ± ${r.regretSd.toFixed(1)}`,
    r.ratioToLinFullPost.toFixed(2),
    pct(r.exploreFirst),
    pct(r.exploreLast),
    r.exploreBySlot && r.exploreBySlot.costFirst > 0
      ? (r.exploreBySlot.costLast / r.exploreBySlot.costFirst).toFixed(2)
      : '—',
    abandonedCell(r),
  ]);
}
/** "2/5 seeds: item-03, item-17" (distinct actions, at most 4 named). */
function abandonedCell(r: Row): string {
  if (!r.abandoned.length) return '—';
  const actions = [...new Set(r.abandoned.flatMap((a) => a.actions))].sort();
  return `${r.abandoned.length}/${r.seeds} seeds: ${actions.slice(0, 4).join(', ')}${actions.length > 4 ? ` +${actions.length - 4}` : ''}`;
}

const HEADER = [
  'policy',
  'cum. regret (mean ± sd)',
  '× LinFullPost',
  'explore first',
  'explore last',
  'explore cost last ÷ first',
  'abandoned optimal action',
];

export function textTable(w: WorldReport): string {
  const all = [HEADER, ...tableRows(w)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 || c === 6 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [
    `${w.world} (${w.horizon} decisions, ${w.slots} slot${w.slots > 1 ? 's' : ''}, ${w.rows[0]?.seeds ?? 0} seeds)`,
    line(HEADER),
    widths.map((x) => '-'.repeat(x)).join('  '),
    ...tableRows(w).map(line),
  ].join('\n');
}

export function markdownTables(reports: WorldReport[]): string {
  return reports
    .map((w) =>
      [
        `**${w.world}** (${w.horizon} decisions, ${w.slots} slot${w.slots > 1 ? 's' : ''}, ${w.rows[0]?.seeds ?? 0} seeds${w.stationary ? '' : ', non-stationary'})`,
        '',
        `| ${HEADER.join(' | ')} |`,
        `|---|---:|---:|---:|---:|---:|---|`,
        ...tableRows(w).map((r) => `| ${r.join(' | ')} |`),
      ].join('\n'),
    )
    .join('\n\n');
}

/** Ratio summary: one line per world, one column per policy. */
export function ratioMatrix(reports: WorldReport[]): { header: string[]; rows: string[][] } {
  const policies = [...new Set(reports.flatMap((w) => w.rows.map((r) => r.policy)))];
  return {
    header: ['world', ...policies],
    rows: reports.map((w) => [
      w.world,
      ...policies.map((p) => {
        const r = w.rows.find((x) => x.policy === p);
        return r ? r.ratioToLinFullPost.toFixed(2) : '—';
      }),
    ]),
  };
}

const COLORS: Record<string, string> = {
  'thompson-hybrid': '#d62728',
  'thompson-linear': '#1f77b4',
  'thompson-beta': '#9467bd',
  'epsilon-greedy': '#ff7f0e',
  ranker: '#8c564b',
  random: '#7f7f7f',
  'numpy:linfullpost': '#000000',
  'numpy:egreedy': '#e377c2',
  'numpy:uniform': '#bcbd22',
  'numpy:lints': '#17becf',
};

/** One small panel per world: mean cumulative regret per policy against decisions (NumPy references dashed). */
export function svgChart(reports: WorldReport[], checkpoint: number): string {
  const cols = 3;
  const pw = 300;
  const ph = 190;
  const pad = { l: 50, t: 28, r: 12, b: 30 };
  const rowsN = Math.ceil(reports.length / cols);
  const legendH = 40;
  const W = cols * pw;
  const H = rowsN * ph + legendH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  reports.forEach((w, i) => {
    const x0 = (i % cols) * pw + pad.l;
    const y0 = Math.floor(i / cols) * ph + pad.t;
    const iw = pw - pad.l - pad.r;
    const ih = ph - pad.t - pad.b;
    // Random and the weak baselines dwarf the learners: scale to 1.6 × the largest of the contextual learners and
    // LinFullPost, clipping the rest at the top edge.
    const scaled = w.rows.filter((r) =>
      ['thompson-hybrid', 'thompson-linear', 'epsilon-greedy', 'numpy:linfullpost'].includes(r.policy),
    );
    const maxY = Math.max(1e-9, ...scaled.map((r) => r.curve[r.curve.length - 1] ?? 0)) * 1.6;
    const sx = (k: number) => x0 + (k / w.horizon) * iw;
    const sy = (v: number) => y0 + ih - (Math.min(v, maxY) / maxY) * ih;
    parts.push(
      `<text x="${x0 + iw / 2}" y="${y0 - 10}" text-anchor="middle" font-weight="bold">${esc(w.world)}</text>`,
    );
    parts.push(
      `<line x1="${x0}" y1="${y0 + ih}" x2="${x0 + iw}" y2="${y0 + ih}" stroke="#333"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + ih}" stroke="#333"/>`,
    );
    parts.push(
      `<text x="${x0 - 4}" y="${y0 + 4}" text-anchor="end">${maxY.toPrecision(3)}</text><text x="${x0 - 4}" y="${y0 + ih}" text-anchor="end">0</text>`,
    );
    parts.push(`<text x="${x0 + iw}" y="${y0 + ih + 14}" text-anchor="end">${w.horizon} decisions</text>`);
    for (const r of w.rows) {
      const pts = [
        `${sx(0)},${sy(0)}`,
        ...r.curve.map((v, k) => `${sx((k + 1) * checkpoint).toFixed(1)},${sy(v).toFixed(1)}`),
      ];
      const dash = r.policy.startsWith('numpy:') ? ' stroke-dasharray="4 3"' : '';
      parts.push(
        `<polyline fill="none" stroke="${COLORS[r.policy] ?? '#17becf'}" stroke-width="1.5"${dash} points="${pts.join(' ')}"/>`,
      );
    }
  });
  const policies = [...new Set(reports.flatMap((w) => w.rows.map((r) => r.policy)))];
  policies.forEach((p, k) => {
    const x = 10 + (k % 5) * 180;
    const y = rowsN * ph + 10 + Math.floor(k / 5) * 15;
    parts.push(
      `<rect x="${x}" y="${y}" width="12" height="3" fill="${COLORS[p] ?? '#17becf'}"/><text x="${x + 16}" y="${y + 5}">${esc(p)}</text>`,
    );
  });
  parts.push(
    `<text x="10" y="${H - 6}" fill="#555">Mean cumulative regret over seeds (NumPy references dashed); curves above a panel's top are clipped. npm run showdown</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
