// runtime/options.ts's table says, for every LOCKSTEP_* variable that stands for a start option,
// which of the two wins. given() is what start() reads them through: drive it with each option and
// its variable both set, and check the winner is the one the table names (a row without a case
// here fails, so a new option comes with its check).

import { checkpointMsOf } from '../recorder/checkpoint.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures/cli/helpers.js';
import { environment, given, parseUntil, type EnvName, type Environment, type StartOptions } from '../runtime/options.js';
import { resolveReplication } from '../replication/config.js';

interface Case {
  option: StartOptions;
  env: string;
  /** The value start() ends up using, from what given() returned. */
  read: (g: ReturnType<typeof given>, options: StartOptions, env: Environment) => unknown;
  /** That value when the option wins, and when the variable wins. */
  fromOption: unknown;
  fromEnv: unknown;
}

const replicationOption = { role: 'primary', node: 'a', listen: { host: '127.0.0.1', port: 0 }, secret: 'x'.repeat(32), arbiter: { host: '127.0.0.1', port: 1 } } as const;
const replicationEnv = JSON.stringify({ ...replicationOption, node: 'b' });

const cases: Partial<Record<EnvName, Case>> = {
  LOCKSTEP_MODE: { option: { mode: 'record' }, env: 'replay', read: (g) => g.mode, fromOption: 'record', fromEnv: 'replay' },
  LOCKSTEP_LOG: { option: { log: 'a.lsl' }, env: 'b.lsl', read: (g) => g.log, fromOption: 'a.lsl', fromEnv: 'b.lsl' },
  LOCKSTEP_SEED: { option: { seed: 5 }, env: '7', read: (g) => g.seed, fromOption: 5, fromEnv: '7' },
  LOCKSTEP_CHAOS: { option: { chaos: 11 }, env: '12', read: (g) => g.chaos, fromOption: 11, fromEnv: '12' },
  LOCKSTEP_DEADLOCK: { option: { deadlock: true }, env: '0', read: (g) => g.deadlock, fromOption: true, fromEnv: false },
  LOCKSTEP_CHECKPOINT_MS: { option: { checkpointMs: 50 }, env: '0', read: (g) => checkpointMsOf(g.checkpointMs), fromOption: 50, fromEnv: 0 },
  LOCKSTEP_PROGRAM: { option: { program: '/p/a.js' }, env: '/p/b.js', read: (g) => g.program, fromOption: '/p/a.js', fromEnv: '/p/b.js' },
  LOCKSTEP_PATCH: { option: { patchGlobals: true }, env: '0', read: (g) => g.patchGlobals, fromOption: true, fromEnv: false },
  LOCKSTEP_UNTIL: {
    option: { until: { thread: 1, index: 2 } }, env: '3:4',
    read: (g, o) => parseUntil(o.until, g.untilText), fromOption: { thread: 1, index: 2 }, fromEnv: { thread: 3, index: 4 },
  },
  LOCKSTEP_REPLICATION: {
    option: { replication: replicationOption }, env: replicationEnv,
    read: (g) => resolveReplication(g.replication, g.replicationText)?.node, fromOption: 'a', fromEnv: 'b',
  },
  LOCKSTEP_ALLOW_PROGRAM_CHANGE: { option: { allowProgramChange: true }, env: '1', read: (g) => g.allowProgramChange, fromOption: true, fromEnv: true },
};

describe('start options and their variables (runtime/options.ts)', function () {
  const rows = Object.entries(environment) as [EnvName, (typeof environment)[EnvName]][];

  it('every variable that stands for an option has a case here', function () {
    const withOption = rows.filter(([, v]) => v.option !== null).map(([name]) => name).sort();
    assert.deepEqual(Object.keys(cases).sort(), withOption);
  });

  for (const [name, row] of rows) {
    if (row.option === null) continue;
    it(`${name} and { ${row.option} }: ${row.precedence === 'either' ? 'either turns it on' : `the ${row.precedence === 'harness' ? 'variable' : 'option'} wins`}`, function () {
      const c = cases[name]!;
      assert.ok(row.option in c.option, `the case for ${name} sets { ${row.option} }`);
      const env = { [name]: c.env };
      const argv = ['node', '/p/main.js'];
      const both = c.read(given(c.option, env, argv), c.option, env);
      assert.deepEqual(both, row.precedence === 'harness' ? c.fromEnv : c.fromOption);
      // Each alone is taken as given.
      assert.deepEqual(c.read(given(c.option, {}, argv), c.option, {}), c.fromOption);
      assert.deepEqual(c.read(given({}, env, argv), {}, env), c.fromEnv);
      if (row.precedence === 'harness') {
        // A harness variable set but empty counts as unset: the option stands.
        const empty = { [name]: '' };
        assert.deepEqual(c.read(given(c.option, empty, argv), c.option, empty), c.fromOption);
      }
    });
  }

  it('with neither: mode off, no log, the entry file from argv, patching on, deadlock by mode', function () {
    const g = given({}, {}, ['node', '/p/main.js']);
    assert.deepEqual(
      { mode: g.mode, log: g.log, program: g.program, patch: g.patchGlobals, allow: g.allowProgramChange, seed: g.seed, deadlock: g.deadlock },
      { mode: 'off', log: undefined, program: '/p/main.js', patch: true, allow: false, seed: undefined, deadlock: undefined },
    );
  });

  it('the README\'s options table names each option\'s variable as the table declares it', function () {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const documented = new Map([...readme.matchAll(/^\| `(\w+)` \| `(LOCKSTEP_[A-Z_]+)[^|]*\|/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [name, row] of rows) if (row.option !== null) assert.equal(documented.get(row.option), name, `README: { ${row.option} } and ${name}`);
  });
});
