/**
 * @slotwise/ope: pure TypeScript off-policy evaluation — IPS, SNIPS, DM, DR, SNDR, Switch-DR per position, slate
 * estimators (SIPS, IIPS, RIPS, pseudo-inverse), normal and seeded bootstrap intervals, weight diagnostics and a
 * cross-fitted reward model. Formulas and references: libs/ope/README.md. Golden values from Open Bandit Pipeline.
 */
export * from './types';
export * from './weights';
export * from './estimators';
export * from './intervals';
export * from './slate';
export * from './reward-model';
export * from './evaluate';
