import { encoderSpec } from '@cxr-ssl/models';
import { findTorchPython } from '@cxr-ssl/torch';
import { availableMemory, gib, torchBatchThatFits, torchRunBytes, torchStepShape } from '../memory.ts';
import type { MethodRun } from '../method-options.ts';
import { EngineStartInterrupted } from './protocol.ts';

export interface TorchFit {
  /** the step does not fit the host's memory: the message names the batch that does */
  problem?: string;
  /** the step may not fit the GPU's memory (the factor is not measured on CUDA): training goes on */
  warning?: string;
}

export interface TorchRun {
  encoder: string;
  size: number;
  /** the global batch (every process's slice together) */
  batch: number;
  device: 'auto' | 'cpu' | 'cuda';
  /** --python as chooseEngine had it (its probe is memoised); default: the usual search */
  python?: string;
  /** processes of the run, on every machine */
  world?: number;
  /** processes of the run on this machine */
  localRanks?: number;
}

/**
 * The torch engine's peak memory, estimated from (encoder, method, size, batch) before any work
 * (train/src/memory.ts, measured on CPU; beside chooseEngine, once torch is chosen): on CPU against the
 * host memory available now, shared by this machine's processes; on CUDA against the GPU's memory. Too
 * much on CPU is a problem naming the batch that fits (the kernel would kill the run part way, with no
 * hint); on CUDA, where the factor is not measured and an out-of-memory error is reported cleanly, a
 * warning. `method` is the run's parsed method: its options are not parsed again here.
 */
export function torchFit(method: MethodRun, run: TorchRun): TorchFit {
  const { encoder, size, batch, device: asked, world = 1, localRanks = 1 } = run;
  const python = asked === 'cpu' ? undefined : findTorchPython(run.python);
  // a signal while the probe imported torch: an interruption, not a machine without CUDA
  if (python && 'interrupted' in python && python.interrupted) throw new EngineStartInterrupted(python.error, python.interrupted);
  const cuda = asked === 'cuda' || (python !== undefined && 'cuda' in python && python.cuda);
  const available = cuda ? (python && 'gpuMemory' in python ? python.gpuMemory : undefined) : availableMemory();
  if (!available) return {};
  const step = torchStepShape(encoderSpec(encoder), method.encodes(size), batch);
  const device = cuda ? 'cuda' : 'cpu';
  const sharing = cuda ? 1 : localRanks;
  const need = torchRunBytes(step, device, world, sharing);
  if (need <= available) return {};
  const fits = torchBatchThatFits(step, device, available, world, sharing);
  const what = `a step of ${batch} samples of ${method.name} at ${size} px on ${encoder}${world > 1 ? ` (${world} processes${sharing > 1 ? `, ${sharing} on this machine` : ''})` : ''} needs about ${gib(need)} of ${cuda ? 'GPU' : 'host'} memory by cxr-ssl's estimate, and ${cuda ? 'the GPU has' : 'this machine has'} ${gib(available)}${cuda ? '' : ' available'}`;
  const fix = `${fits ? `use --batch-size ${fits} (the largest that fits)` : 'not even one sample per process fits: use a smaller --size'}${fits ? ', a smaller --size' : ''} or a smaller --encoder`;
  if (cuda) return { warning: `${what}: it may run out of GPU memory; ${fix}` };
  return { problem: `${what}: the kernel would kill it part way. ${fix[0].toUpperCase()}${fix.slice(1)}; or pass --ignore-memory-estimate to try anyway` };
}
