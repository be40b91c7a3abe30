import type { NodesOptions } from '@cxr-ssl/train';
import { UsageError } from './config-file.ts';

/** The multi-node flags of `pretext` (docs/MULTI-NODE.md). */
export interface NodeFlags {
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
}

/** torch's conventional rendezvous port (torchrun's default too) */
export const DEFAULT_MASTER_PORT = 29500;

/**
 * This machine's place in a multi-node run, from the flags, else from the launcher that started
 * us: torchrun (`--nproc-per-node 1 --no-python`: GROUP_RANK, WORLD_SIZE = nodes, MASTER_ADDR/PORT,
 * whose store its agent already serves, so the ranks join it by env://) or a SLURM step with one
 * task per node (SLURM_NODEID, SLURM_STEP_NUM_NODES, MASTER_ADDR/PORT set by the batch script).
 * undefined: one machine. Each cxr-ssl process starts its node's --gpus ranks itself.
 */
export function nodesOf(o: NodeFlags, env: NodeJS.ProcessEnv = process.env): (NodesOptions & { source: string }) | undefined {
  const launcher = fromLauncher(env);
  const count = o.nnodes ?? launcher?.count ?? 1;
  if (count === 1 && o.nodeRank === undefined) return undefined;
  const rank = o.nodeRank ?? launcher?.rank;
  if (rank === undefined) throw new UsageError(`--nnodes ${count} needs --node-rank (0 on the machine that serves the rendezvous, 1 to ${count - 1} on the others)`);
  if (rank >= count) throw new UsageError(`--node-rank ${rank} is not below --nnodes ${count}`);
  const masterAddr = o.masterAddr ?? env.MASTER_ADDR;
  if (!masterAddr) throw new UsageError('--nnodes needs --master-addr (or MASTER_ADDR): the host name or address of node 0, reachable from every node');
  const masterPort = o.masterPort ?? (env.MASTER_PORT ? Number(env.MASTER_PORT) : DEFAULT_MASTER_PORT);
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535) throw new UsageError(`--master-port ${masterPort}: expected a TCP port, 1 to 65535`);
  const agentStore = launcher?.source === 'torchrun' && o.masterAddr === undefined && o.masterPort === undefined;
  return { count, rank, masterAddr, masterPort, ...(agentStore ? { rendezvous: 'env://' } : {}), source: launcher && o.nnodes === undefined ? launcher.source : 'flags' };
}

function fromLauncher(env: NodeJS.ProcessEnv): { count: number; rank: number; source: string } | undefined {
  if (env.TORCHELASTIC_RUN_ID !== undefined && env.LOCAL_WORLD_SIZE !== undefined) {
    if (env.LOCAL_WORLD_SIZE !== '1') {
      throw new UsageError(`torchrun started ${env.LOCAL_WORLD_SIZE} cxr-ssl processes on this node: start one per node (--nproc-per-node 1 --no-python), and give --gpus for its ranks`);
    }
    return { count: Number(env.WORLD_SIZE), rank: Number(env.GROUP_RANK ?? env.RANK), source: 'torchrun' };
  }
  if (env.SLURM_STEP_NUM_NODES !== undefined && env.SLURM_NODEID !== undefined) {
    if (env.SLURM_STEP_NUM_TASKS !== undefined && env.SLURM_STEP_NUM_TASKS !== env.SLURM_STEP_NUM_NODES) {
      throw new UsageError(`srun started ${env.SLURM_STEP_NUM_TASKS} tasks on ${env.SLURM_STEP_NUM_NODES} nodes: start one cxr-ssl per node (--ntasks-per-node 1), and give --gpus for its ranks`);
    }
    return { count: Number(env.SLURM_STEP_NUM_NODES), rank: Number(env.SLURM_NODEID), source: 'srun' };
  }
  return undefined;
}
