import { addStats, packedColumns, packStats, unpackStats } from './stats-codec';

/** Doubles that text formats tend to get wrong: signed zero, subnormals, extremes, long mantissas. */
const AWKWARD = [
  -0,
  0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  0.1 + 0.2,
  1 / 3,
  Math.PI * 1e300,
  Infinity,
  -Infinity,
];

function randomDoubles(n: number, seed: number): number[] {
  // Random bit patterns (not Math.random(), whose doubles have short mantissas), skipping NaNs.
  const bytes = new Uint32Array(2 * n);
  let s = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) bytes[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return Array.from(new Float64Array(bytes.buffer)).map((x) => (Number.isNaN(x) ? 1.5 : x));
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Buffer.from(Float64Array.from(a).buffer).equals(Buffer.from(Float64Array.from(b).buffer));

describe('stats codec', () => {
  it('packs and unpacks every double bit-exactly, scalars and arrays, with the tree shape in the layout', () => {
    const zz = randomDoubles(289 * 289, 1);
    const tree = {
      n: 12,
      yy: -0,
      zz,
      zr: AWKWARD,
      small: [1, 2],
      empty: [],
      nested: { a: [[3, 4], { b: 5e-324 }], flag: true, label: 'x', none: null },
    };
    const packed = packStats(tree);
    expect(packed.values.byteLength).toBe(8 * (2 + zz.length + AWKWARD.length + 2 + 2 + 1));
    expect(JSON.stringify(packed.layout).length).toBeLessThan(300);
    // The layout goes through jsonb as JSON text.
    const back = unpackStats({
      layout: JSON.parse(JSON.stringify(packed.layout)),
      values: packed.values,
    }) as typeof tree;
    expect(back).toEqual(tree);
    expect(Object.is(back.yy, -0)).toBe(true);
    expect(sameBits(back.zz, zz)).toBe(true);
    expect(sameBits(back.zr, AWKWARD)).toBe(true);
    expect(Array.isArray(back.zz)).toBe(true); // plain arrays for the bandit library
  });

  it('unpacks from an unaligned buffer, and into views on request', () => {
    const values = randomDoubles(9, 2);
    const packed = packStats({ v: values });
    const unaligned = Buffer.alloc(packed.values.byteLength + 3).subarray(3);
    packed.values.copy(unaligned);
    const views = unpackStats({ layout: packed.layout, values: unaligned }, { views: true }) as { v: Float64Array };
    expect(views.v).toBeInstanceOf(Float64Array);
    expect(sameBits(views.v, values)).toBe(true);
  });

  it('refuses a layout that points outside the values', () => {
    expect(() => unpackStats({ layout: { a: { $f64: [2, 4] } }, values: Buffer.alloc(16) })).toThrow(RangeError);
    expect(() => unpackStats({ layout: {}, values: Buffer.alloc(7) })).toThrow(RangeError);
  });

  it('adds trees exactly as element-wise IEEE sums, treating missing keys as zero', () => {
    const a = { n: 3, zz: randomDoubles(1000, 3), items: { x: [1, 2] } };
    const b = { n: 4, zz: randomDoubles(1000, 4), items: { x: [10, 20], y: [5, 6] }, yy: 2 };
    const sum = addStats(unpackStats(packStats(a), { views: true }), b) as {
      n: number;
      zz: Float64Array;
      items: Record<string, Float64Array>;
      yy: number;
    };
    expect(sum.n).toBe(7);
    expect(sum.yy).toBe(2);
    expect(
      sameBits(
        sum.zz,
        a.zz.map((x, i) => x + b.zz[i]),
      ),
    ).toBe(true);
    expect(Array.from(sum.items.x)).toEqual([11, 22]);
    expect(sum.items.y).toEqual([5, 6]);
    expect(unpackStats(packStats(sum))).toEqual({
      n: 7,
      yy: 2,
      zz: a.zz.map((x, i) => x + b.zz[i]),
      items: { x: [11, 22], y: [5, 6] },
    });
  });

  it('refuses to add statistics of different shapes', () => {
    expect(() => addStats([1, 2], [1, 2, 3])).toThrow(/lengths 2 and 3/);
    expect(() => addStats({ a: 1 }, [1])).toThrow(RangeError);
    expect(() => addStats(Float64Array.of(1), { 0: 1 })).toThrow(RangeError);
  });

  it('lays out many packed trees as array parameters cut from one buffer', () => {
    const list = [packStats({ a: [1, 2] }), packStats({ a: [3] }), packStats({})];
    const cols = packedColumns(list);
    expect(cols.starts).toEqual([0, 16, 24]);
    expect(cols.lengths).toEqual([16, 8, 0]);
    expect(cols.values.byteLength).toBe(24);
    expect(cols.layouts.map((l) => JSON.parse(l))).toEqual(list.map((p) => p.layout));
    expect(unpackStats({ layout: list[1].layout, values: cols.values.subarray(16, 24) })).toEqual({ a: [3] });
  });
});
