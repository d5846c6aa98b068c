import { execFileSync } from 'node:child_process';
import golden from './__golden__/murmur3.json';
import { murmur3String, murmur3x86_32, utf8 } from './murmur3';
import { BUCKETS, bucketOf, hashUnit, isHashVersion, trafficSalt, type HashVersion } from './hash';
import { compileExperiment, type AssignableExperiment } from './assign';
import { pearsonChiSquare } from './chi2';
import { unitIds } from './__testutil__/ids';

describe('MurmurHash3 x86 32 (hashVersion 1)', () => {
  it('matches the independent Python implementation on reference vectors and every tail length', () => {
    expect(golden.murmur3.length).toBeGreaterThan(100);
    for (const v of golden.murmur3)
      expect([v.input, v.seed, murmur3String(v.input, v.seed)]).toEqual([v.input, v.seed, v.hash]);
  });

  it('matches the golden (salt, unit id) hashes and buckets, non-ASCII ids included', () => {
    const nonAscii = golden.unitBuckets.filter((v) => /[^\x20-\x7e]/.test(v.unitId));
    expect(nonAscii.length).toBeGreaterThan(100);
    for (const v of golden.unitBuckets) {
      expect([v.salt, v.unitId, hashUnit(v.salt, v.unitId, 1), bucketOf(v.salt, v.unitId, 1)]).toEqual([
        v.salt,
        v.unitId,
        v.hash,
        v.bucket,
      ]);
    }
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    expect(Array.from(utf8('é😀'))).toEqual([0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
    expect(murmur3String('é')).toBe(murmur3x86_32(Uint8Array.from([0xc3, 0xa9])));
    // A lone surrogate is encoded as U+FFFD (WHATWG), as documented.
    expect(murmur3String('\ud800')).toBe(murmur3String('\ufffd'));
  });

  it('rejects unknown hash versions', () => {
    expect(isHashVersion(1)).toBe(true);
    expect(isHashVersion(2)).toBe(false);
    expect(() => hashUnit('s', 'u', 2 as HashVersion)).toThrow(RangeError);
  });

  it('buckets are uniform over 10,000 buckets (χ², 100,000 ids)', () => {
    const counts = new Array<number>(BUCKETS).fill(0);
    for (const id of unitIds(100_000, 7)) counts[bucketOf('uniformity', id)]++;
    const r = pearsonChiSquare(counts, new Array<number>(BUCKETS).fill(1));
    console.log(`bucket uniformity: χ²=${r.chiSquare.toFixed(1)} df=${r.df} p=${r.pValue.toFixed(4)}`);
    expect(r.pValue).toBeGreaterThan(0.001);
  });

  it('the traffic hash is independent of the variant hash (2×2 cells, χ²)', () => {
    const cells = [0, 0, 0, 0];
    for (const id of unitIds(100_000, 8)) {
      const a = bucketOf('indep', id) < 5000 ? 0 : 1;
      const b = bucketOf(trafficSalt('indep'), id) < 3000 ? 0 : 2;
      cells[a + b]++;
    }
    const r = pearsonChiSquare(cells, [0.15, 0.15, 0.35, 0.35]);
    console.log(`traffic × variant independence: χ²=${r.chiSquare.toFixed(2)} df=${r.df} p=${r.pValue.toFixed(4)}`);
    expect(r.pValue).toBeGreaterThan(0.001);
  });
});

describe('end-to-end golden assignments (fresh layout, Python-generated)', () => {
  const g = golden.assignment;
  const exp: AssignableExperiment = {
    key: 'golden',
    salt: g.salt,
    status: 'running',
    trafficPercent: g.trafficPercent,
    variants: g.variants,
  };
  it('variant, traffic and bucket agree for every golden unit', () => {
    const c = compileExperiment(exp);
    for (const u of g.units) {
      expect([u.unitId, c.assign(u.unitId)]).toEqual([
        u.unitId,
        { inExperiment: u.inExperiment, variant: u.variant, reason: u.reason, bucket: u.bucket },
      ]);
      expect(bucketOf(trafficSalt(g.salt), u.unitId)).toBe(u.trafficBucket);
    }
  });
});

describe('another process', () => {
  it('a child node process running the same hash source gives every id the same bucket and variant', () => {
    const source = murmur3x86_32.toString();
    if (source.includes('cov_')) return; // instrumented by coverage: the source is not self-contained
    const exp: AssignableExperiment = {
      key: 'xproc',
      status: 'running',
      variants: [
        { key: 'control', weight: 45 },
        { key: 'a', weight: 35 },
        { key: 'b', weight: 20 },
      ],
    };
    const c = compileExperiment(exp);
    const ids = [...unitIds(2_000, 99), ...golden.unitBuckets.map((v) => v.unitId)];
    const script = `
      const murmur = (${source});
      const enc = new TextEncoder();
      const { salt, ids, allocation } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const out = ids.map((id) => {
        const bucket = murmur(enc.encode(salt + ':' + id), 0) % 10000;
        let variant = null;
        for (const [k, ranges] of Object.entries(allocation)) for (const r of ranges) if (bucket >= r.start && bucket < r.end) variant = k;
        return { bucket, variant };
      });
      process.stdout.write(JSON.stringify(out));`;
    const stdout = execFileSync(process.execPath, ['-e', script], {
      input: JSON.stringify({ salt: c.salt, ids, allocation: c.allocation }),
      encoding: 'utf8',
    });
    const child = JSON.parse(stdout) as { bucket: number; variant: string }[];
    expect(child).toHaveLength(ids.length);
    ids.forEach((id, i) => {
      const a = c.assign(id);
      expect([id, child[i].bucket, child[i].variant]).toEqual([id, a.bucket, a.variant]);
    });
  });
});

describe('UTF-8 encoding used by the hash', () => {
  it('agrees with TextEncoder on BMP, astral, combining and lone-surrogate strings', () => {
    const samples = [
      '',
      'abc',
      'é',
      '€',
      '日本',
      '😀',
      'a😀b',
      '\ud800',
      '\udc00x',
      'x\ud83d',
      '\ud83d\ud83d\ude00',
      '\u07ff\u0800\uffff',
      'x'.repeat(1000) + '😀',
    ];
    for (const s of samples) expect([s, murmur3String(s, 7)]).toEqual([s, murmur3x86_32(utf8(s), 7)]);
  });
});
