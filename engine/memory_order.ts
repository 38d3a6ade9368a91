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
// The ring's tail is a plain store on x86 (RingWriter.publish): TSO keeps it behind the event's
// words, and each place where the producer then waits for a reader of the tail starts with a
// locked read-modify-write. It was taken back twice because a replication test ("a cluster loses
// its primary, regains a backup by state transfer, and survives losing a node again") hung with it
// (3 in ~91 runs against none in ~115). The cause, found with the store back in and the test
// looped (session 7): not memory order but a race the faster store made likelier. The drain posts
// the cut's last frame to the log channel's sender on one port and the main thread the snapshot on
// another; when the snapshot came first, the joining backup was sent that frame too and replayed
// events its snapshot already held (a divergence, or a node that never answered once it took
// over). Fixed in replication/core (a joiner gets frames from its cut on); with the fix and the
// plain store, the test passed 300 of 300 loops.

export const TSO = process.arch === 'x64' || process.arch === 'ia32';
