// flatc 2.0.8 emits relative imports without the `.js` extension, which Node's ESM loader needs.
// Run after flatc (see `npm run gen:log`): rewrites `from './x'` to `from './x.js'` in generated files.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8');
      const fixed = text.replace(/from '(\.{1,2}\/[^']+?)(?<!\.js)'/g, "from '$1.js'");
      writeFileSync(path, '// @ts-nocheck\n' + fixed.replace(/^\/\/ @ts-nocheck\n/, ''));
    }
  }
}
walk(new URL('../engine/log/generated', import.meta.url).pathname);
