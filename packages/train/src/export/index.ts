export { type CardRow, modelCard } from './card.ts';
export { cxrSslVersion, HUB_FORMAT, type HubConfig, hubConfig, writeHubExport } from './hub.ts';
export { exportRun, RUN_EXPORT_DIR } from './run.ts';
export { encodeStateDict, hubStateDict, type StateEntry } from './state-dict.ts';
