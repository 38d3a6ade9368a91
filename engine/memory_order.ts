// What lockstep relies on of the processor's memory order, in one place. An Atomics call costs a
// builtin call in V8 (~10 ns here, as much as an uncontended lock in mode off), a plain typed
// array access one instruction, so the hot path uses plain accesses where the hardware already
// gives the order an Atomics call would.
//
// On x86 (x64, ia32: x86-TSO) stores become visible in program order, loads are not reordered
// with other loads, and a locked read-modify-write (every Atomics RMW) is a full fence: a load
// after it cannot be satisfied before the stores ahead of it are visible. V8 emits a typed
// array's loads and stores in program order and does not move them across an Atomics call. So
// the waiter line, read plainly after a replayed step's release (an RMW), keeps the store→load
// order the waiter protocol needs (step.ts, Thread.wakeVersion). Elsewhere (arm64, where a plain
// load may pass a release) it is read with Atomics.load. (A replayed step's next version is a
// plain store on every processor: the section's release publishes it.)
//
// Tried and taken back: the ring's tail as a plain store on x86 (~6 ns a recorded event). With
// it, the replication test "a cluster loses its primary, regains a backup by state transfer, and
// survives losing a node again" hung in 2 of ~35 runs (the last primary stopped answering), and
// in none of 35 with Atomics.store; the cause was not found, so the tail stays an Atomics.store.
// Tried again (session 6, RingWriter.publish: ~8 ns off an uncontended recorded lock): the same
// test hung once in 56 loops, against 0 in 40 loops of the build without it run beside it. Three
// hangs in ~91 runs against none in ~75 is not proof, but a failover that stops answering is the
// one failure lockstep must not have, so it stays taken back until the mechanism is understood
// (the hang: the third node, joined by state transfer and promoted, never answers).

export const TSO = process.arch === 'x64' || process.arch === 'ia32';
