// The README's error tables against the code: every code of the ErrorCode, ClientErrorCode and
// CliCode unions has a row, and every row names a code that exists. Other work adds codes to
// engine/errors.ts all the time; this test is what says that a new code still lacks its row.
// The unions are read from the source files (types leave nothing at run time).

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError, type ErrorCode } from '../runtime/index.js';
import { ClientError, type ClientErrorCode } from '../client/index.js';
import { ROOT } from './fixtures/cli/helpers.js';

/** The string literals of `export type <name> = | 'A' | 'B';` in a source file. */
export function unionMembers(source: string, name: string): string[] {
  const m = new RegExp(`export type ${name} =([^;]*);`).exec(source);
  assert.ok(m, `no "export type ${name} = …;" found`);
  return [...m[1]!.matchAll(/'([A-Z_]+)'/g)].map((x) => x[1]!);
}

/** The codes in the first column of the table after `<!-- error-table: <file> <type> -->`. */
export function tableCodes(readme: string, file: string, type: string): string[] {
  const marker = `<!-- error-table: ${file} ${type} -->`;
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README has no table marked ${marker}`);
  const rows = readme.slice(at + marker.length).trimStart().split('\n');
  const codes: string[] = [];
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const first = row.split('|')[1] ?? '';
    codes.push(...[...first.matchAll(/`(ERR_[A-Z_]+)`/g)].map((x) => x[1]!));
  }
  return codes;
}

describe('README error tables', function () {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [file, type] of [['engine/errors.ts', 'ErrorCode'], ['client/errors.ts', 'ClientErrorCode'], ['cli/errors.ts', 'CliCode']] as const) {
    it(`lists every ${type} in ${file}, once, and nothing else`, function () {
      const codes = unionMembers(readFileSync(join(ROOT, file), 'utf8'), type);
      assert.ok(codes.length > 0);
      const rows = tableCodes(readme, file, type);
      const missing = codes.filter((c) => !rows.includes(c));
      assert.deepEqual(missing, [], `README's ${type} table lacks a row for ${missing.join(', ')} (see ${file})`);
      const unknown = rows.filter((c) => !codes.includes(c));
      assert.deepEqual(unknown, [], `README's ${type} table lists codes ${file} does not have: ${unknown.join(', ')}`);
      assert.equal(new Set(rows).size, rows.length, `README's ${type} table lists a code twice`);
    });
  }

  it('every ERR_ code the CLI reports by string is in a table (hunt --timeout reported ERR_TIMEOUT, which none listed)', function () {
    const known = new Set([
      ...unionMembers(readFileSync(join(ROOT, 'engine/errors.ts'), 'utf8'), 'ErrorCode'),
      ...unionMembers(readFileSync(join(ROOT, 'cli/errors.ts'), 'utf8'), 'CliCode'),
    ]);
    // Internal markers, never printed as a code: ERR_PROGRAM is a failure the CLI words itself
    // (outcome.ts reports it as ERR_PROGRAM_FAILED); ERR_DIFFERENT is an exit-code mapping only.
    const internal = new Set(['ERR_PROGRAM', 'ERR_DIFFERENT']);
    const unlisted: string[] = [];
    for (const file of readdirSync(join(ROOT, 'cli')).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(ROOT, 'cli', file), 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g)) {
        if (!known.has(m[1]!) && !internal.has(m[1]!)) unlisted.push(`${m[1]} (cli/${file})`);
      }
    }
    assert.deepEqual(unlisted, [], 'codes the CLI reports that no README table lists');
  });

  it('errors carry the union type (a compile-time check that also runs)', function () {
    const e = new LockstepError('ERR_LIMIT', 'x');
    const code: ErrorCode = e.code;
    const c = new ClientError('ERR_CLIENT_CLOSED', 'x');
    const clientCode: ClientErrorCode = c.code;
    assert.equal(code, 'ERR_LIMIT');
    assert.equal(clientCode, 'ERR_CLIENT_CLOSED');
  });
});
