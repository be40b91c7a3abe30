import { describe, expect, it } from 'vitest';
import { spawnHelper } from './test-util.ts';

describe('PipeClient', () => {
  // on a loaded machine the engine's Python can take longer to exit than the grace period: idle (unref'd)
  // handles left Node nothing to run once the kill timer fired, and it quit with code 13 mid-demo
  it('shutdown of a child slower than its grace period returns (it is killed), whatever else the process has to do', async () => {
    const { parent, said } = await spawnHelper('slow-exit.script.ts');
    expect(said).toEqual({ closed: true });
    const code = await new Promise((resolve) => (parent.exitCode !== null ? resolve(parent.exitCode) : parent.on('exit', resolve)));
    expect(code).toBe(0);
  }, 30_000);
});
