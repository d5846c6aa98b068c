import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { verify } from '../../apps/api/src/modules/webhooks/signing';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Parsed body. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Whether the signature verified with the receiver's secret when it arrived. */
  verified: boolean;
  /** The status the receiver answered. */
  answered: number | null;
}

/**
 * A real local HTTP receiver, as a consumer would write one: it verifies the Standard Webhooks signature, and
 * processes each `webhook-id` once (`processed`), answering 2xx to duplicates. `respond` decides each answer
 * (default 204); returning 'hang' leaves the request unanswered.
 */
export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  readonly processed: ReceivedWebhook[] = [];
  secret = '';
  respond: (r: ReceivedWebhook, nth: number) => number | 'hang' = () => 204;
  private server!: Server;
  private waiters: Array<() => void> = [];
  url = '';

  async start(port = 0): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const h = (n: string) => String(req.headers[n] ?? '');
        const r: ReceivedWebhook = {
          id: h('webhook-id'),
          timestamp: h('webhook-timestamp'),
          signature: h('webhook-signature'),
          body,
          payload: JSON.parse(body),
          verified: false,
          answered: null,
        };
        r.verified =
          this.secret !== '' && verify(this.secret, { id: r.id, timestamp: r.timestamp, signature: r.signature }, body);
        this.requests.push(r);
        const nth = this.requests.filter((x) => x.id === r.id).length;
        const answer = this.respond(r, nth);
        if (answer !== 'hang') {
          r.answered = answer;
          if (answer >= 200 && answer < 300 && r.verified && !this.processed.some((p) => p.id === r.id))
            this.processed.push(r);
          res.writeHead(answer).end(answer >= 300 ? 'receiver says no' : '');
        }
        this.waiters.splice(0).forEach((w) => w());
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
    return this;
  }

  /** Resolves when `predicate` holds over what was received; rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(
          `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests: ${this.requests.map((r) => r.payload.type).join(', ')})`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.requests.filter((r) => r.payload.type === type);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
