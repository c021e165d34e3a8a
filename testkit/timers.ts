/** Ordinary timers for driving the state objects outside Temporal, all cleared at once when the run ends. */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** The `startTimer` a lifecycle or session takes: fires once after `ms`. */
  readonly start = (ms: number, onFire: () => void): void => {
    const t = setTimeout(() => {
      this.timers.delete(t);
      onFire();
    }, ms);
    this.timers.add(t);
  };

  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
