/** Command-line options of `npm run simulate -- …`. */
import { DEFAULT_PROPENSITY_DRAWS } from '@slotwise/bandit';
import { POLICY_CATALOG, type PolicyKey } from './runner';

export interface CliOptions {
  world: 'ecommerce' | 'obd';
  decisions: number;
  seed: number;
  variants: PolicyKey[];
  propensityDraws: number;
  concurrency: number;
  rate: number;
  rewardBatch: number;
  decisionsPerHour: number;
  contextDim: number;
  itemDim: number;
  catalogSize: number;
  shortlist: number;
  slots: number;
  windows: number;
  out: string | null;
  url: string | null;
  key: string | null;
  databaseUrl: string | null;
  markdown: boolean;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run simulate -- [options]

Drives the Slotwise HTTP API with a simulated world and compares ranking policies against the oracle.

  --world ecommerce|obd        world (default ecommerce)
  --decisions N                rank calls in total, split over the variants by the API's hashing (default 20000)
  --seed N                     world seed (default 1)
  --variants a,b,…             from ${POLICY_CATALOG.join(', ')} (default: all that the world supports)
  --propensity-draws N         Monte-Carlo draws per Thompson decision (default 100; the API's default is ${DEFAULT_PROPENSITY_DRAWS})
  --concurrency N              rank requests in flight (default 8)
  --rate N                     at most N rank requests per second (default 0 = as fast as the API answers)
  --reward-batch N             rewards per POST /v1/rewards (default 200)
  --decisions-per-hour N       simulated traffic: decisions per simulated hour (ecommerce; default 120)
  --dims CxI                   context × item features (ecommerce; default 16x16 = the fixture ranker's shape;
                               other shapes run without a ranker and without neural-linear)
  --catalog N --shortlist N --slots N   ecommerce catalog size (40), ranker shortlist (25), slots (5)
  --windows N                  points of the time series (default 20)
  --out DIR                    write results.json and chart.svg there (default .slotwise/simulations/<world>-seed<seed>)
  --url URL --key KEY          use a running API (admin key) instead of starting one
  --database-url URL           start the API on this PostgreSQL server instead of an embedded database
  --markdown                   print the table as Markdown too
  --quiet                      only the table
`;

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = {
    world: 'ecommerce',
    decisions: 20000,
    seed: 1,
    variants: [...POLICY_CATALOG],
    propensityDraws: 100,
    concurrency: 8,
    rate: 0,
    rewardBatch: 200,
    decisionsPerHour: 120,
    contextDim: 16,
    itemDim: 16,
    catalogSize: 40,
    shortlist: 25,
    slots: 5,
    windows: 20,
    out: null,
    url: null,
    key: null,
    databaseUrl: null,
    markdown: false,
    quiet: false,
    help: false,
  };
  const int = (name: string, v: string | undefined, min: number, max: number) => {
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${name} needs a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new Error(`${name} must be between ${min} and ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=')
      ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
      : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--world': {
        const w = value();
        if (w !== 'ecommerce' && w !== 'obd') throw new Error('--world must be ecommerce or obd');
        o.world = w;
        break;
      }
      case '--decisions':
        o.decisions = int(flag, value(), 1, 10_000_000);
        break;
      case '--seed':
        o.seed = int(flag, value(), 0, 2 ** 31 - 1);
        break;
      case '--variants': {
        const list = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = list.filter((v) => !(POLICY_CATALOG as readonly string[]).includes(v));
        if (!list.length || bad.length)
          throw new Error(
            `--variants takes a comma-separated list of ${POLICY_CATALOG.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}`,
          );
        o.variants = [...new Set(list)] as PolicyKey[];
        break;
      }
      case '--propensity-draws':
        o.propensityDraws = int(flag, value(), 0, 100_000);
        break;
      case '--concurrency':
        o.concurrency = int(flag, value(), 1, 64);
        break;
      case '--rate':
        o.rate = int(flag, value(), 0, 1_000_000);
        break;
      case '--reward-batch':
        o.rewardBatch = int(flag, value(), 1, 10_000);
        break;
      case '--decisions-per-hour':
        o.decisionsPerHour = int(flag, value(), 1, 10_000_000);
        break;
      case '--dims': {
        const m = /^(\d+)x(\d+)$/.exec(value() ?? '');
        if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > 64 || Number(m[2]) > 64)
          throw new Error('--dims takes CxI, e.g. 16x16 (1–64 each)');
        o.contextDim = Number(m[1]);
        o.itemDim = Number(m[2]);
        break;
      }
      case '--catalog':
        o.catalogSize = int(flag, value(), 1, 2000);
        break;
      case '--shortlist':
        o.shortlist = int(flag, value(), 1, 2000);
        break;
      case '--slots':
        o.slots = int(flag, value(), 1, 50);
        break;
      case '--windows':
        o.windows = int(flag, value(), 1, 1000);
        break;
      case '--out':
        o.out = value() ?? null;
        break;
      case '--url':
        o.url = value() ?? null;
        break;
      case '--key':
        o.key = value() ?? null;
        break;
      case '--database-url':
        o.databaseUrl = value() ?? null;
        break;
      case '--markdown':
        o.markdown = true;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see --help)`);
    }
  }
  if ((o.url === null) !== (o.key === null)) throw new Error('--url and --key go together');
  if (o.slots > o.catalogSize) throw new Error('--slots must not exceed --catalog');
  return o;
}
