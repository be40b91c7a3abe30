import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data/testing';
import { describe, expect, it } from 'vitest';

// One version for the npm packages (tools/pack/pack.sh packs them together), the Python wheel and the
// changelog: a release bumps them all or the packages would name each other's wrong version.
describe('versions', () => {
  it('every workspace package, pyproject.toml and cxr_ssl.__version__ agree, and CHANGELOG.md has the version', () => {
    const root = repoRoot();
    const npm = readdirSync(join(root, 'packages'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => {
        try {
          return [JSON.parse(readFileSync(join(root, 'packages', d.name, 'package.json'), 'utf8')).version as string];
        } catch {
          return []; // packages/python: pip's
        }
      });
    const pyproject = readFileSync(join(root, 'packages', 'python', 'pyproject.toml'), 'utf8').match(/^version = "(.+)"$/m)?.[1];
    const init = readFileSync(join(root, 'packages', 'python', 'cxr_ssl', '__init__.py'), 'utf8').match(/^__version__ = '(.+)'/m)?.[1];
    expect(npm.length).toBeGreaterThanOrEqual(7);
    expect(new Set([...npm, pyproject, init])).toEqual(new Set([npm[0]]));
    expect(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^## ${npm[0].replace(/\./g, '\\.')}\\b`, 'm'));
  });
});
