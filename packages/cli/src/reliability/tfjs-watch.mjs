// `node --import ./tfjs-watch.mjs ...`: appends to $TFJS_WATCH_LOG every @tensorflow/* module the
// process resolves, through import (ESM resolve hook) or require (CommonJS resolver).
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.TFJS_WATCH_LOG;
const seen = (specifier) => {
  if (log && /^@tensorflow\//.test(specifier)) appendFileSync(log, `${specifier}\n`);
};

register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, ctx, next) {
      if (${JSON.stringify(log ?? '')} && /^@tensorflow\\//.test(specifier)) appendFileSync(${JSON.stringify(log ?? '')}, specifier + '\\n');
      return next(specifier, ctx);
    }`)}`,
);
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  seen(request);
  return resolveFilename.call(this, request, ...rest);
};
