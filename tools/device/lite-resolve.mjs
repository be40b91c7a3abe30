// Resolve hook for lite-hooks.mjs (runs before tsx's, so tsx still compiles the .ts it points to).
const LITE = {
  // the models index holds no tfjs / ONNX / import parts (those are subpath exports)
  '@cxr-ssl/models': new URL('../../packages/models/src/index.ts', import.meta.url).href,
  '@cxr-ssl/atomic': new URL('../../packages/atomic/src/index.ts', import.meta.url).href,
  '@cxr-ssl/data': new URL('./data-lite.ts', import.meta.url).href,
};

export async function resolve(specifier, ctx, next) {
  const url = LITE[specifier];
  return next(url ?? specifier, ctx);
}
