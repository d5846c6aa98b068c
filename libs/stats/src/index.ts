/**
 * @slotwise/stats — pure TypeScript statistics engine for A/B reports.
 * Every function takes summary statistics (so the API can aggregate in SQL) and returns a result
 * with `reason: null`, or null numbers and a plain-words `reason` for degenerate inputs.
 * See libs/stats/README.md for methods, formulas and references.
 */
export * from './types';
export { summarize, summaryFromSums, summarizePairs, bivariateFromSums, type BivariateSummary } from './summaries';
export {
  normalCdf,
  normalSf,
  normalPdf,
  normalQuantile,
  studentTCdf,
  studentTSf,
  studentTTwoSided,
  studentTQuantile,
  chiSquareSf,
  logGamma,
  regularizedBeta,
  upperRegularizedGamma,
  erfc,
} from './distributions';
export * from './welch';
export * from './relative-lift';
export * from './ratio';
export * from './cuped';
export * from './msprt';
export * from './srm';
export * from './bayesian';
export * from './multiple-testing';
export * from './power';
export * from './decision';
