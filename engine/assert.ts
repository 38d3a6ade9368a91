// Assertions for programmer errors: an invariant that, if false, means lockstep itself is wrong.
// They stay on in production, because a wrong state must stop the run rather than spread (fail-stop).

export class AssertionError extends Error {
  constructor(message: string) {
    super(`lockstep invariant violated: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}
