import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailsOf, dumpCmd, restoreCmd, runCmd } from './commands.js';

describe('runc commands', () => {
  it('resolves relative paths against the CLI’s working directory, the daemon has another', () => {
    assert.deepEqual(detailsOf({ id: 'c1', bundle: 'b', root: 'state' }), {
      id: 'c1',
      bundle: `${process.cwd()}/b`,
      root: `${process.cwd()}/state`,
    });
  });

  it('sends only the flags that were given (restore job keeps the rest from the job)', () => {
    assert.deepEqual(restoreCmd.details?.({ id: 'new', bundle: undefined, root: '' }), { id: 'new' });
    assert.deepEqual(restoreCmd.details?.({}), {});
  });

  it('requires --id and --bundle to run, --id to dump, nothing to restore', () => {
    assert.equal(runCmd.options?.bundle?.demandOption, true);
    assert.equal(runCmd.options?.id?.demandOption, true);
    assert.equal(dumpCmd.options?.id?.demandOption, true);
    assert.ok(Object.values(restoreCmd.options ?? {}).every((o) => !o.demandOption));
  });
});
