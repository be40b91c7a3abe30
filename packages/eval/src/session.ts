import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { z } from 'zod';

/**
 * Opens an encoder.onnx for feature extraction. 'cuda' tries the CUDA execution provider first, and
 * 'auto' does where it can exist (cudaCanExist); when that throws (no GPU, or an onnxruntime-node
 * build without CUDA libraries) the session is opened on the CPU and `note` says so: never a silent
 * fallback. 'auto' on a machine without an NVIDIA driver goes to the CPU without a note: that is
 * expected there, not a failure worth a line on every evaluation.
 */
export const SessionOptions = z
  .object({
    provider: z.enum(['cpu', 'cuda', 'auto']).default('auto'),
    /** intra-op threads for the CPU provider (default: onnxruntime's choice, one per core) */
    threads: z.number().int().positive().optional(),
  })
  .strict();
export type SessionOptions = z.input<typeof SessionOptions>;

export interface EncoderSession {
  session: ort.InferenceSession;
  provider: 'cpu' | 'cuda';
  /** set when the requested provider was not the one used, with the reason */
  note?: string;
}

/** The encoder's input and output names, fixed by the ONNX writer (packages/models/src/onnx). */
export const INPUT_NAME = 'pixels';
export const OUTPUT_NAME = 'features';

function checkNames(session: ort.InferenceSession, where: string): void {
  if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
    throw new Error(
      `${where}: expected input '${INPUT_NAME}' and output '${OUTPUT_NAME}', found inputs ` +
        `[${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; ` +
        'export the encoder with the project ONNX writer (encoderOnnx)',
    );
  }
}

/**
 * Whether onnxruntime's CUDA provider can load here: its library beside the binding (npm installs it
 * on linux-x64 where it can download it) and an NVIDIA driver. Without either, asking for it only
 * yields "Failed to load shared library".
 */
export function cudaCanExist(): boolean {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  return existsSync(lib) && (existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidiactl'));
}

export async function openEncoderSession(onnx: Uint8Array | string, options: SessionOptions = {}): Promise<EncoderSession> {
  const opts = SessionOptions.parse(options);
  const where = typeof onnx === 'string' ? onnx : 'encoder.onnx (in memory)';
  let bytes: Uint8Array;
  try {
    bytes = typeof onnx === 'string' ? readFileSync(onnx) : onnx;
  } catch (err) {
    throw new Error(`${where}: cannot read the encoder (${(err as Error).message}); export it first`);
  }
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  };
  let note: string | undefined;
  if (opts.provider === 'cuda' || (opts.provider === 'auto' && cudaCanExist())) {
    // fatal-only logging for the probe: a missing CUDA library is reported through `note`
    // rather than as a stderr dump from onnxruntime's provider bridge
    const logLevel = ort.env.logLevel;
    ort.env.logLevel = 'fatal';
    try {
      const session = await ort.InferenceSession.create(bytes, {
        ...base,
        executionProviders: ['cuda'],
        logSeverityLevel: 4,
      });
      checkNames(session, where);
      return { session, provider: 'cuda' };
    } catch (err) {
      const reason = ((err as Error).message ?? String(err)).split('\n')[0];
      note = `asked for '${opts.provider}': the CUDA provider failed (${reason}); running on the CPU`;
    } finally {
      ort.env.logLevel = logLevel;
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
  } catch (err) {
    throw new Error(`${where}: onnxruntime cannot load the encoder (${(err as Error).message}); re-export it`);
  }
  checkNames(session, where);
  return note ? { session, provider: 'cpu', note } : { session, provider: 'cpu' };
}
