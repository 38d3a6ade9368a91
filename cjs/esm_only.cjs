// lockstep is an ES module package (its entry uses top-level await and import.meta). A require()
// from CommonJS lands here, so that the error says what to do instead of Node's ERR_REQUIRE_ESM.
'use strict';
const e = new Error(
  'lockstep is ESM-only: load it with import, from an .mjs file or a package whose package.json has ' +
  '"type": "module" (npm init makes CommonJS projects; add "type": "module" to yours).',
);
e.code = 'ERR_REQUIRE_ESM';
throw e;
