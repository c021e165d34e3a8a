/**
 * The network between the worker children and the paper exchange, in the drill's process: every
 * venue request of a worker goes through it and is passed on at once, except the submissions and
 * cancellations a drill holds, so that one SIGKILL finds many orders in the middle of a venue call:
 * - a held request has left the worker and not reached the venue; after the kill it reaches the
 *   venue late (its sender is dead) or is lost, as `afterKill` says;
 * - a held response: the venue has acted (accepted the order, cancelled it) and the answer never
 *   gets back before the kill.
 * Requests are passed on byte for byte, signature included.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HeldCall = 'submit' | 'cancel';
export type HoldAt = 'request' | 'response';

export interface RelayHold {
  call: HeldCall;
  at: HoldAt;
  /** For a held request: reach the venue after the kill (true) or be lost (false). */
  deliverAfterKill: boolean;
}

interface Parked {
  clientOrderId: string;
  hold: RelayHold;
  /** Passes the request on (held requests) or drops the connection (held responses). */
  release(deliver: boolean): Promise<void>;
}

const CANCEL_PATH = /^\/v1\/orders\/by-client-id\/([^/?]+)$/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export class VenueRelay {
  private readonly holds = new Map<string, RelayHold>();
  private readonly parked = new Map<string, Parked>();
  /** Client order IDs whose hold was reached, with the call and where it was held. */
  readonly reached = new Map<string, RelayHold>();
  /** The venue's answers passed back, by HTTP status (429: the venue's own rate limit refused the call). */
  readonly answers = new Map<number, number>();
  /** Answers passed back per wall-clock second (epoch seconds), for the busiest second. */
  readonly answersPerSecond = new Map<number, number>();
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(targetUrl: string): Promise<VenueRelay> {
    let relay: VenueRelay | null = null;
    const server = createServer((req, res) => void relay!.handle(req, res));
    relay = new VenueRelay(server, new URL(targetUrl));
    server.on('connection', (s) => {
      relay!.sockets.add(s);
      s.on('close', () => relay!.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Holds the next submission (or cancellation) of this order where `hold` says. */
  hold(clientOrderId: string, hold: RelayHold): void {
    this.holds.set(`${hold.call}:${clientOrderId}`, hold);
  }

  /**
   * After the kill: every parked call is released (held requests delivered or lost, held
   * responses dropped) and holds not reached are disarmed. Returns how many requests reached the venue late.
   */
  async afterKill(): Promise<number> {
    const parked = [...this.parked.values()];
    this.parked.clear();
    this.holds.clear();
    let delivered = 0;
    for (const p of parked) {
      const deliver = p.hold.at === 'request' && p.hold.deliverAfterKill;
      if (deliver) delivered++;
      await p.release(deliver);
    }
    return delivered;
  }

  async close(): Promise<void> {
    await this.afterKill();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private heldFor(method: string, path: string, body: Buffer): { key: string; clientOrderId: string; hold: RelayHold } | null {
    let call: HeldCall;
    let clientOrderId: string;
    if (method === 'POST' && path === '/v1/orders') {
      call = 'submit';
      try {
        clientOrderId = String((JSON.parse(body.toString('utf8')) as { clientOrderId?: unknown }).clientOrderId);
      } catch {
        return null;
      }
    } else {
      const m = method === 'DELETE' ? CANCEL_PATH.exec(path) : null;
      if (!m) return null;
      call = 'cancel';
      clientOrderId = decodeURIComponent(m[1]!);
    }
    const key = `${call}:${clientOrderId}`;
    const hold = this.holds.get(key);
    return hold ? { key, clientOrderId, hold } : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req).catch(() => null);
    if (body === null) return;
    const path = (req.url ?? '/').split('?')[0]!;
    const held = this.heldFor(req.method ?? 'GET', path, body);
    if (held === null) {
      await this.forward(req, body).then(
        (answer) => answer.pipeTo(res),
        () => res.destroy(),
      );
      return;
    }
    this.holds.delete(held.key);
    this.reached.set(held.clientOrderId, held.hold);
    if (held.hold.at === 'request') {
      this.parked.set(held.key, {
        clientOrderId: held.clientOrderId,
        hold: held.hold,
        release: async (deliver) => {
          res.destroy();
          if (deliver) await this.forward(req, body).then(() => undefined, () => undefined);
        },
      });
      return;
    }
    // Held response: the venue acts now, its answer waits for the kill and is then lost.
    await this.forward(req, body).then(
      () => undefined,
      () => undefined,
    );
    this.parked.set(held.key, { clientOrderId: held.clientOrderId, hold: held.hold, release: async () => void res.destroy() });
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<{ pipeTo(res: ServerResponse): void }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host };
      const out = httpRequest(
        { hostname: this.target.hostname, port: this.target.port, path: req.url, method: req.method, headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (d: Buffer) => parts.push(d));
          answer.on('error', reject);
          answer.on('end', () => {
            const payload = Buffer.concat(parts);
            resolve({
              pipeTo: (res) => {
                const second = Math.floor(Date.now() / 1_000);
                this.answers.set(answer.statusCode ?? 502, (this.answers.get(answer.statusCode ?? 502) ?? 0) + 1);
                this.answersPerSecond.set(second, (this.answersPerSecond.get(second) ?? 0) + 1);
                const { 'transfer-encoding': _te, connection: _c, ...rest } = answer.headers;
                res.writeHead(answer.statusCode ?? 502, { ...rest, 'content-length': String(payload.length) });
                res.end(payload);
              },
            });
          });
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
