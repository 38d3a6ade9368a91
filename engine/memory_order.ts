// What lockstep relies on of the processor's memory order, in one place. An Atomics call costs a
// builtin call in V8 (~10 ns here, as much as an uncontended lock in mode off), a plain typed
// array access one instruction, so the hot path uses plain accesses where the hardware already
// gives the order an Atomics call would.
//
// On x86 (x64, ia32: x86-TSO) stores become visible in program order, loads are not reordered
// with other loads, and a locked read-modify-write (every Atomics RMW) is a full fence: a load
// after it cannot be satisfied before the stores ahead of it are visible. V8 emits a typed
// array's loads and stores in program order and does not move them across an Atomics call. So:
// - the ring's tail, stored plainly after the event's words, publishes the words (ring.ts);
// - a replayed step's next version, stored plainly before the section's release (an RMW), and
//   the waiter count, read plainly after that RMW, keep the store→load order the waiter protocol
//   needs (step.ts, Thread.park).
// Elsewhere (arm64, where stores may become visible out of order and a plain load may pass a
// release) the same places use Atomics.store and Atomics.load.

export const TSO = process.arch === 'x64' || process.arch === 'ia32';
