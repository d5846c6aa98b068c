import { parseArgs } from './cli';

describe('simulate CLI options', () => {
  it('has the documented defaults', () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({
      world: 'ecommerce',
      decisions: 20000,
      seed: 1,
      propensityDraws: 100,
      contextDim: 16,
      itemDim: 16,
    });
    expect(o.variants).toEqual(['ts-hybrid', 'ts-neural-linear', 'ts-beta', 'egreedy', 'ranker', 'random']);
  });

  it('parses values, both --flag value and --flag=value', () => {
    const o = parseArgs([
      '--world',
      'obd',
      '--decisions=500',
      '--variants',
      'ts-hybrid,random',
      '--dims',
      '4x6',
      '--seed',
      '9',
      '--markdown',
    ]);
    expect(o).toMatchObject({
      world: 'obd',
      decisions: 500,
      variants: ['ts-hybrid', 'random'],
      contextDim: 4,
      itemDim: 6,
      seed: 9,
      markdown: true,
    });
  });

  it('refuses bad input with a clear message', () => {
    expect(() => parseArgs(['--world', 'mars'])).toThrow('--world must be ecommerce or obd');
    expect(() => parseArgs(['--decisions', '-3'])).toThrow('--decisions needs a whole number');
    expect(() => parseArgs(['--variants', 'ts-hybrid,ucb'])).toThrow('unknown: ucb');
    expect(() => parseArgs(['--url', 'http://x'])).toThrow('--url and --key go together');
    expect(() => parseArgs(['--frobnicate'])).toThrow('unknown option --frobnicate');
  });
});
