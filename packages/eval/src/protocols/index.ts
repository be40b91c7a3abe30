import { finetune } from './finetune.ts';
import { knn } from './knn.ts';
import { linear } from './linear.ts';

export { defineProtocol, type FrozenFeatures, type LabelledRows, type Progress, type Protocol, type ProtocolOutput, type ProtocolRun, type Runtime } from './protocol.ts';

/**
 * The evaluation protocols by name, in report order. A protocol is one file here (its options schema
 * and `run`) plus one line in this registry; flags, help, EvalSettings and reproduce's `eval:` block
 * are made from it (registry.test.ts checks that nothing else names one).
 */
export const PROTOCOLS = { linear, knn, finetune };
export type ProtocolName = keyof typeof PROTOCOLS;
export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as [ProtocolName, ...ProtocolName[]];

/** The study's protocol: the default of `eval`, what `linear` runs, what the study's table and the headline plots show. */
export const STUDY_PROTOCOL: ProtocolName = 'linear';
