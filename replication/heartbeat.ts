// Failure detection as a pure core: when to send a heartbeat, and when a silent peer is dead.
// Time is an input (the driver passes its clock), so tests drive it without sleeping.

export class Heartbeat {
  private lastHeard: number;
  private lastSent: number;

  constructor(private readonly intervalMs: number, private readonly timeoutMs: number, now: number) {
    this.lastHeard = now;
    this.lastSent = now;
  }

  /** Anything from the peer counts as a sign of life. */
  heard(now: number): void {
    this.lastHeard = now;
  }

  /** True when a heartbeat is due now (and counts it as sent). */
  sendDue(now: number): boolean {
    if (now - this.lastSent < this.intervalMs) return false;
    this.lastSent = now;
    return true;
  }

  /** How long the peer has been silent, if that is past the timeout; else null. */
  silentFor(now: number): number | null {
    const silent = now - this.lastHeard;
    return silent >= this.timeoutMs ? silent : null;
  }
}
