// The modules only record, replay and replication need (run_parts.ts), loaded once a run needs
// them: a program in mode off never loads the log codec or the replication layer.

import type * as RunParts from './run_parts.js';

let parts: typeof RunParts | null = null;

export async function loadParts(): Promise<typeof RunParts> {
  parts ??= await import('./run_parts.js');
  return parts;
}

/** Whether an earlier run in this process loaded them (the next start() uses them whatever its mode). */
export function partsIfLoaded(): typeof RunParts | null {
  return parts;
}

/** The loaded parts, on a path that only runs outside mode off (after loadParts()). */
export function loadedParts(): typeof RunParts {
  return parts!;
}
