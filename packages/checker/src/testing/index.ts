/**
 * @mrkv/checker/testing: helpers for tests and tools, never imported by production code.
 */
export { SPACING, applyRegister, registerHistoryFromPlan, randomRegisterPlan } from './register-history.js';
export type { RegisterStep, StepOutcome, GeneratedHistory, RandomPlanOptions } from './register-history.js';
export { witnessProblems } from './witness.js';
