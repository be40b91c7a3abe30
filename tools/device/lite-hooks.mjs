// `node --import tsx --import ./tools/device/lite-hooks.mjs ...`: on the GPU box there is no
// node_modules/@cxr-ssl and no sharp, so the workspace packages are resolved to their sources and
// @cxr-ssl/data's index (which loads sharp) is swapped for data-lite.ts, holding what training needs.
import { register } from 'node:module';

register('./lite-resolve.mjs', import.meta.url);
