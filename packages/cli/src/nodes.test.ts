import { describe, expect, it } from 'vitest';
import { nodesOf } from './nodes.ts';

describe('nodesOf: where this machine sits in a multi-node run', () => {
  it('one machine unless told otherwise', () => {
    expect(nodesOf({}, {})).toBeUndefined();
  });

  it('flags: TCP rendezvous at node 0 (rank 0 serves the store), port 29500 by default', () => {
    expect(nodesOf({ nnodes: 2, nodeRank: 1, masterAddr: 'n0' }, {})).toEqual({ count: 2, rank: 1, masterAddr: 'n0', masterPort: 29500, source: 'flags' });
    expect(nodesOf({ nnodes: 2, nodeRank: 0 }, { MASTER_ADDR: 'h', MASTER_PORT: '1234' })).toMatchObject({ masterAddr: 'h', masterPort: 1234 });
  });

  it('refuses what cannot rendezvous, saying what to give', () => {
    expect(() => nodesOf({ nnodes: 2 }, {})).toThrow(/--nnodes 2 needs --node-rank/);
    expect(() => nodesOf({ nnodes: 2, nodeRank: 2, masterAddr: 'h' }, {})).toThrow(/--node-rank 2 is not below --nnodes 2/);
    expect(() => nodesOf({ nnodes: 2, nodeRank: 0 }, {})).toThrow(/needs --master-addr \(or MASTER_ADDR\)/);
  });

  it('torchrun --nproc-per-node 1 --no-python: node rank and count from its variables, its agent store joined by env://', () => {
    const env = { TORCHELASTIC_RUN_ID: 'x', LOCAL_WORLD_SIZE: '1', WORLD_SIZE: '2', GROUP_RANK: '1', RANK: '1', MASTER_ADDR: 'n0', MASTER_PORT: '29400' };
    expect(nodesOf({}, env)).toEqual({ count: 2, rank: 1, masterAddr: 'n0', masterPort: 29400, rendezvous: 'env://', source: 'torchrun' });
    expect(() => nodesOf({}, { ...env, LOCAL_WORLD_SIZE: '8' })).toThrow(/start one per node \(--nproc-per-node 1 --no-python\)/);
  });

  it('srun, one task per node: SLURM_NODEID of SLURM_STEP_NUM_NODES, MASTER_ADDR from the batch script', () => {
    const env = { SLURM_STEP_NUM_NODES: '2', SLURM_STEP_NUM_TASKS: '2', SLURM_NODEID: '0', MASTER_ADDR: 'gpu01' };
    expect(nodesOf({}, env)).toEqual({ count: 2, rank: 0, masterAddr: 'gpu01', masterPort: 29500, source: 'srun' });
    expect(() => nodesOf({}, { ...env, SLURM_STEP_NUM_TASKS: '16' })).toThrow(/--ntasks-per-node 1/);
    // a batch script outside srun has no step variables: one machine
    expect(nodesOf({}, { SLURM_NODEID: '0', SLURM_NNODES: '2' })).toBeUndefined();
  });
});
