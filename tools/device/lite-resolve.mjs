// Resolve hook for lite-hooks.mjs (runs before tsx's, so tsx still compiles the .ts it points to).
const LITE = {
  '@cxr-ssl/models': new URL('./models-lite.ts', import.meta.url).href,
  '@cxr-ssl/data': new URL('./data-lite.ts', import.meta.url).href,
};

export async function resolve(specifier, context, next) {
  const url = LITE[specifier];
  return next(url ?? specifier, context);
}
