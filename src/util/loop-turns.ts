// Turns on the event loop for long synchronous steps (a push's decode, validation, store: some
// 10-30 ms of CPU each for 1 MiB; a query's start): at most one step per loop iteration, in
// arrival order.
//
// Awaiting setImmediate alone does not do that. Every immediate queued before the check phase
// runs in that one phase, and the I/O callbacks of one poll phase run back to back, so pushes
// that arrive together ran their steps one after another with no timer, query or label call
// in between: the server's first three pushes, each creating dozens of streams, stalled the
// loop for over 100 ms. Here each turn is granted from its own immediate, and the next grant
// is queued from inside it, which lands in the next iteration: timers and I/O run between turns.
//
// A turn lasts until the step's first await (its synchronous part); nothing needs releasing.

export class LoopTurns {
  /** waiters in arrival order (as many as the pushes or queries under way: a few) */
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private readonly grant = (): void => {
    this.scheduled = false;
    const next = this.waiting.shift();
    if (next === undefined) return;
    // queued from the check phase: the next grant runs in the next loop iteration
    this.schedule();
    next();
  };

  /** Resolves in a loop iteration of its own, after every turn asked for before it. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Turns asked for and not yet granted. */
  get pending(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled || this.pending === 0) return;
    this.scheduled = true;
    setImmediate(this.grant);
  }
}
