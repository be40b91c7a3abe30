export { encoderOnnx } from './encoder.ts';
export { withLastMapOutput } from './last-map.ts';
