// `node --import tsx --import ./tools/device/lite-hooks.mjs ...`: on the GPU box there is no tfjs,
// onnx-proto or sharp, so the package indexes of @cxr-ssl/models and @cxr-ssl/data (which load
// them) are swapped for the lite entries beside this file, holding only what training needs.
import { register } from 'node:module';

register('./lite-resolve.mjs', import.meta.url);
