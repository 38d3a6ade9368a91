// A bound on the whole test run (a mocha root-hook plugin, loaded by .mocharc.json). A failing
// test must never hang the run: every test closes its servers, children and workers in after
// hooks, and this is the net under them. After the last test, a process that is still alive a
// while later is held open by something a test leaked: the watchdog names what (Node's active
// resources) and ends the run with a failure. A run past LOCKSTEP_TEST_RUN_MS is stopped too,
// naming the test it was in. Timers here are unref'd: they never keep a finished run alive.

const RUN_MS = Number(process.env.LOCKSTEP_TEST_RUN_MS ?? 60 * 60_000);
/** How long a finished run may take to exit (reporters print; sockets close). */
const EXIT_MS = Number(process.env.LOCKSTEP_TEST_EXIT_MS ?? 15_000);

let current = '(before the first test)';

function stop(why: string): void {
  process.stderr.write(`lockstep test watchdog: ${why}; still open: ${process.getActiveResourcesInfo().join(', ')}\n`);
  const code = typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : 1;
  // mocha's own 'exit' listener sets the exit code to its failure count (0): this one runs after it.
  process.on('exit', () => (process.exitCode = code));
  process.exit(code);
}

export const mochaHooks = {
  beforeAll(): void {
    setTimeout(() => stop(`the run passed ${RUN_MS} ms, in "${current}"`), RUN_MS).unref();
  },
  beforeEach(this: { currentTest?: { fullTitle(): string } }): void {
    current = this.currentTest?.fullTitle() ?? current;
  },
  afterAll(): void {
    setTimeout(() => stop(`the tests ended ${EXIT_MS} ms ago but the process did not exit: a test leaked a server, child or worker`), EXIT_MS).unref();
  },
};
