/**
 * Runs every datadriven interaction script in packages/raft/testdata. Each script is a sequence
 * of commands with the expected transcript under each; a behaviour change shows as a diff of the
 * script. To accept changes (review the diff!), rewrite the scripts with
 *
 *   pnpm exec vitest run packages/raft/src/interaction.test.ts -u
 *
 * New scripts can be written with empty outputs and filled the same way.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from './testing/interaction/run-script.js';

const scripts = import.meta
  // @ts-expect-error -- vite's import.meta.glob (the scripts as raw strings); its types come from vite/client, which this package does not depend on
  .glob('../testdata/*.txt', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

describe('interaction scripts', () => {
  it('there are scripts', () => {
    expect(Object.keys(scripts).length).toBeGreaterThan(20);
  });
  for (const [path, text] of Object.entries(scripts)) {
    // The returned promise is awaited by vitest (the core's lint rules forbid async here).
    it(path.replace('../testdata/', ''), () => {
      const r = runScript(text);
      const where = r.firstMismatch === undefined ? '' : `first difference at ${path}:${r.firstMismatch.line} (${r.firstMismatch.cmd})`;
      return expect(r.rewritten, where).toMatchFileSnapshot(path);
    });
  }
});
