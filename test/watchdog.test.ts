// The test-run watchdog (watchdog.ts): a run whose tests leak a server ends, failed, naming what
// was left open, instead of hanging.

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('test-run watchdog', function () {
  it('ends a run that leaked a listening server, with a failure naming it', async function () {
    const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(process.execPath, [
        'node_modules/mocha/bin/mocha.js', '--no-config', '--require', 'dist/test/watchdog.js', 'dist/test/fixtures/leaky_spec.js',
      ], { cwd: ROOT, env: { ...process.env, LOCKSTEP_TEST_EXIT_MS: '200' } }, (error, _stdout, stderr) => done({ code: error ? (error.code as number) : 0, stderr }));
      child.stdin?.end();
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /lockstep test watchdog: the tests ended .* a test leaked/);
    assert.match(r.stderr, /TCPServerWrap/);
  });
});
