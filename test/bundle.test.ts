// Workers start from bundles (scripts/bundle.mjs) when the build made them: engine/bundle.ts picks
// a bundle only when it is not older than the module it replaces, and LockstepError's instanceof
// holds across two copies of the errors module (a bundle's and the program's own import).
// test/start_modules checks that a run really starts its workers and drain from the bundles.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from '../engine/bundle.js';
import { DivergenceError, LockstepError } from '../engine/errors.js';

describe('bundled worker entries', function () {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-bundle-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, ageS: number): URL => {
    const path = join(dir, name);
    writeFileSync(path, '');
    const t = Date.now() / 1000 - ageS;
    utimesSync(path, t, t);
    return pathToFileURL(path);
  };

  it('takes the bundle when it is as new as the module, else the module (stale or missing bundle)', function () {
    assert.equal(freshBundle(file('a.js', 100), file('a.bundle.js', 10)).href, pathToFileURL(join(dir, 'a.bundle.js')).href);
    assert.equal(freshBundle(file('b.js', 10), file('b.bundle.js', 100)).href, pathToFileURL(join(dir, 'b.js')).href, 'a bundle older than its module is stale');
    assert.equal(freshBundle(file('c.js', 10), pathToFileURL(join(dir, 'missing.js'))).href, pathToFileURL(join(dir, 'c.js')).href);
  });

  it('LockstepError and DivergenceError are instances across two copies of the errors module', async function () {
    const other = (await import(`../engine/errors.js?copy=${Date.now()}`)) as typeof import('../engine/errors.js');
    assert.notEqual(other.LockstepError, LockstepError, 'two module instances');
    const divergence = new other.DivergenceError('replay went elsewhere', {});
    const usage = new other.LockstepError('ERR_USAGE', 'wrong flag');
    assert.ok(divergence instanceof LockstepError && divergence instanceof DivergenceError);
    assert.ok(usage instanceof LockstepError);
    assert.ok(!(usage instanceof DivergenceError), 'a plain LockstepError is no DivergenceError');
    assert.ok(!(new Error('x') instanceof LockstepError) && !((null as unknown) instanceof LockstepError));
    assert.deepEqual(Object.keys(divergence).sort(), ['code', 'details', 'name'], 'the brand is not enumerable (JSON and reports unchanged)');
  });
});
