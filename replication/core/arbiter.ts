// The arbiter's test-and-set rule, as a pure core (no sockets, no files): it holds (epoch, owner)
// and grants epoch e to the first node that asks for it. A node that goes live (a backup taking
// over, or a primary continuing alone) must first win the next epoch; the loser of a race, or a
// node that asks for an epoch already taken, stops. This is what prevents split brain: two nodes
// that lost contact with each other cannot both win epoch e.

export interface ArbiterRecord {
  epoch: number;
  owner: string;
}

export type Decision = { won: true; epoch: number; owner: string } | { won: false; epoch: number; owner: string };

export function testAndSet(state: ArbiterRecord, epoch: number, node: string): { next: ArbiterRecord; decision: Decision } {
  if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`epoch must be a positive integer, got ${epoch}`);
  if (epoch === state.epoch + 1) {
    const next = { epoch, owner: node };
    return { next, decision: { won: true, ...next } };
  }
  // Asking again for the epoch one already holds is a retry after a lost reply: it still wins.
  if (epoch === state.epoch && node === state.owner) return { next: state, decision: { won: true, ...state } };
  return { next: state, decision: { won: false, ...state } };
}

/** Pause between attempts to reach the arbiter, milliseconds. */
export const CLAIM_RETRY_MS = 100;

/**
 * A node's claim survives a lost reply: an attempt that got no answer (unreachable, timed out,
 * closed, a reply lost or garbled) is made again while another attempt fits before `deadline`;
 * an answer, a refusal included, is final. The arbiter grants an epoch again to its owner, so a
 * claim whose reply was lost learns it won.
 */
export function askAgain(answered: boolean, now: number, deadline: number): boolean {
  return !answered && now + CLAIM_RETRY_MS < deadline;
}
