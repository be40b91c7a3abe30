export { type CardRow, modelCard } from './card.ts';
export { cxrSslVersion, HUB_FORMAT, type HubConfig, hubConfig, writeHubExport } from './hub.ts';
export { exportRun } from './run.ts';
export { EXPORT_MARKER, exportTargetProblem, isRunFolder, RUN_EXPORT_DIR } from './target.ts';
export { encodeStateDict, hubStateDict, type StateEntry } from './state-dict.ts';
