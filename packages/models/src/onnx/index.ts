export { encoderOnnx } from './encoder.ts';
