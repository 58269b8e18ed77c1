// The classify area's public surface: shared types, the layer-1 classifier and the native
// scanner primitives. Other areas import only this file.
export * from './types.js';
export { createClassifier, combineEscalated, failClosed, DEFAULT_MAX_SCAN_BYTES, CANDIDATE_CAP, type Classifier, type ClassifierOptions, type PathRule } from './classifier.js';
export { ClassifyError } from './errors.js';
export { DECISIVE, WEAK_PII_THRESHOLD } from './scoring.js';
export type { RuleSpec, Rule } from './rules.js';
export { compileRules, scan, scanSync, locate, createStream, type LocatedMatch, type RawFinding, type RuleSet, type ScanStream, type NativeRuleSpec } from './native.js';
export { anonymize, pseudonym, type AnonymizeOptions, type AnonymizeResult, type AnonymizeMode } from './anonymize.js';
