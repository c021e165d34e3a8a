/** A hand-driven clock: sleeps resolve only when `advance` moves time past their deadline. */
import type { Clock } from '../../activities/venue/clock';

interface Sleeper {
  at: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private t = 1_000_000) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sleepers.push({ at: this.t + Math.max(0, ms), resolve }));
  }

  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking sleepers in deadline order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > end) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
