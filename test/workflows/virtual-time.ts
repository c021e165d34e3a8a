/** Virtual time for driving workflow logic without a server: timers fire in order, instantly. */
export class VirtualTime {
  now = 1_700_000_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  startTimer = (ms: number, fn: () => void) => void this.timers.push({ at: this.now + ms, fn });
  /** Advances time to the next timer or `ms`, firing timers, until `until()` holds. */
  private readonly limit = this.now + 86_400_000;
  waitFor = async (until: () => boolean, ms: number): Promise<boolean> => {
    const end = this.now + ms;
    if (end > this.limit) throw new Error('virtual day exhausted: the lifecycle never finished');
    for (;;) {
      if (until()) return true;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) {
        this.now = end;
        return until();
      }
      this.timers.shift();
      this.now = next.at;
      next.fn();
    }
  };
  /** Schedules something to happen at a virtual time (an operator's signal, a venue event). */
  at(ms: number, fn: () => void) {
    this.timers.push({ at: this.now + ms, fn });
  }
}
