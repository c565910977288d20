/**
 * A polite HTTP client for crawling: one connection, a token bucket shared by every
 * request (pages, images, robots.txt, retries and redirects alike) whose waits count
 * from the previous answer, so the server never sees two requests closer than 1/rate
 * (not even after a slow connect), an identifying User-Agent, retries with exponential
 * backoff and jitter on 429 / 5xx / network errors that honour Retry-After, and
 * conditional requests (ETag / Last-Modified).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { AtlasError, describeError } from '../../errors.js';
import { checkInt, checkNumber } from '../../validate.js';

/** Where people can read what the crawler is and who runs it (sent in the User-Agent). */
export const PROJECT_URL = 'https://github.com/filmatlas/filmatlas';

function packageVersion(): string {
  try {
    // src/sources/filmgrab/ and dist/sources/filmgrab/ are both three levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0';
  } catch {
    return '0';
  }
}

/** `filmatlas/0.1.0 (+https://github.com/filmatlas/filmatlas)`: names the tool and where to read about it. */
export const USER_AGENT = `filmatlas/${packageVersion()} (+${PROJECT_URL})`;

/**
 * A token bucket: holds at most `burst` tokens, refills at `rate` tokens per second,
 * and each request takes one. With burst 1 (the crawler's), request starts are at
 * least 1/rate seconds apart, whatever the server or the caller does; `restart()`
 * makes the next wait count from a later moment (the crawler's: the previous answer).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private chain: Promise<void> = Promise.resolve();
  private perMs: number;

  constructor(
    rate: number,
    readonly burst = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = rate / 1000;
    this.tokens = burst;
    this.last = now();
  }

  /** Changes the refill rate (e.g. to a robots.txt Crawl-delay); tokens already earned are kept. */
  setRate(rate: number): void {
    this.refill();
    this.perMs = rate / 1000;
  }

  get rate(): number {
    return this.perMs * 1000;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
  }

  /** Empties the bucket now, so the next token is a full 1/rate away from this moment. */
  restart(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  /**
   * Waits for a token and takes it. Callers are served in order. The wait is checked
   * against the clock, not trusted: libuv times a timer from the start of the current
   * loop turn, so after a busy turn it can fire early by as much as that turn took.
   */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.chain.then(async () => {
      this.refill();
      while (this.tokens < 1) {
        await sleep(Math.max(1, Math.ceil((1 - this.tokens) / this.perMs)), undefined, { signal });
        this.refill();
      }
      this.tokens -= 1;
    });
    // A cancelled wait must not block the callers behind it.
    this.chain = next.catch(() => undefined);
    return next;
  }
}

export interface PoliteClientOptions {
  /** Requests per second across every request this client makes. Default 1; 0.001–1000. */
  rate?: number;
  /** User-Agent header. Default `USER_AGENT`. */
  userAgent?: string;
  /** Attempts per request on 429, 5xx and network errors. Default 5; 1–20. */
  attempts?: number;
  /** First retry delay in ms; doubles per attempt, jittered to 50–100 %, capped by maxDelayMs. Default 1000; ≥ 0. */
  retryDelayMs?: number;
  /** Longest backoff between attempts, ms. Default 60000. */
  maxDelayMs?: number;
  /** Longest Retry-After honoured, in seconds; a server asking for more fails the request. Default 600. */
  maxRetryAfterS?: number;
  /** Time allowed for a response's headers, ms. Default 30000. */
  headersTimeoutMs?: number;
  /** Time allowed between body chunks, ms. Default 60000. */
  bodyTimeoutMs?: number;
  /** Largest body accepted, bytes. Default 512 MiB. */
  maxBytes?: number;
  /** Redirects followed per request. Default 5. */
  maxRedirects?: number;
  /** Checked before following a redirect (robots.txt); a refused target fails the request. */
  allowUrl?: (url: string) => Promise<boolean> | boolean;
  /** Called as each request (attempt, redirect hop) is sent. */
  onRequest?: (event: { url: string; attempt: number; at: number }) => void;
}

export interface GetOptions {
  /** Send If-None-Match with this ETag. */
  etag?: string | null;
  /** Send If-Modified-Since with this date. */
  lastModified?: string | null;
  signal?: AbortSignal;
}

export interface HttpResult {
  /** The URL answered, after redirects. */
  url: string;
  status: number;
  headers: Record<string, string>;
  /** Decoded body (empty for 304). */
  body: Buffer;
}

export interface ClientStats {
  requests: number;
  retries: number;
  bytes: number;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      throw new Error(`unsupported content-encoding '${encoding}'`);
  }
}

function aborted(): AtlasError {
  return new AtlasError('ABORTED', 'the crawl was cancelled; run the same command again to resume');
}

export class PoliteClient {
  readonly stats: ClientStats = { requests: 0, retries: 0, bytes: 0 };
  readonly userAgent: string;
  private readonly agent: Agent;
  private readonly bucket: TokenBucket;
  private readonly o: Required<Omit<PoliteClientOptions, 'allowUrl' | 'onRequest' | 'userAgent' | 'rate'>> &
    Pick<PoliteClientOptions, 'allowUrl' | 'onRequest'>;

  constructor(options: PoliteClientOptions = {}) {
    const rate = options.rate ?? 1;
    checkNumber('--rate', rate, 0.001, 1000);
    const attempts = options.attempts ?? 5;
    checkInt('attempts', attempts, 1, 20);
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.bucket = new TokenBucket(rate);
    this.o = {
      attempts,
      retryDelayMs: options.retryDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      maxRetryAfterS: options.maxRetryAfterS ?? 600,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 60_000,
      maxBytes: options.maxBytes ?? 512 * 1024 * 1024,
      maxRedirects: options.maxRedirects ?? 5,
      allowUrl: options.allowUrl,
      onRequest: options.onRequest,
    };
    // One connection per origin, one request on it at a time: the site sees a single, sequential visitor.
    this.agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 10_000 });
  }

  get rate(): number {
    return this.bucket.rate;
  }

  /** Slows the client down (a robots.txt Crawl-delay); never speeds it up past the rate it was given. */
  limitRate(rate: number): void {
    if (rate < this.bucket.rate) this.bucket.setRate(rate);
  }

  /**
   * GETs a URL. Returns the final response for 2xx, 304 and 4xx (other than 429);
   * retries 429, 5xx and network errors, then throws `AtlasError('NETWORK')`.
   * Throws `AtlasError('ABORTED')` when the signal fires.
   */
  async get(url: string, options: GetOptions = {}): Promise<HttpResult> {
    const { signal } = options;
    let current = url;
    let redirects = 0;
    let lastError = '';
    for (let attempt = 1; attempt <= this.o.attempts;) {
      if (signal?.aborted) throw aborted();
      try {
        await this.bucket.take(signal);
      } catch {
        throw aborted();
      }
      this.stats.requests++;
      this.o.onRequest?.({ url: current, attempt, at: Date.now() });
      try {
        const res = await this.once(current, options);
        if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
          if (++redirects > this.o.maxRedirects) {
            throw new AtlasError('NETWORK', `more than ${this.o.maxRedirects} redirects fetching ${url}`, {
              value: url,
            });
          }
          const target = new URL(res.headers.location, current).href;
          if (this.o.allowUrl && !(await this.o.allowUrl(target))) {
            throw new AtlasError('NETWORK', `${url} redirects to ${target}, which robots.txt disallows`, {
              value: url,
            });
          }
          current = target;
          continue;
        }
        return res;
      } catch (err) {
        this.bucket.restart();
        if (signal?.aborted) throw aborted();
        if (err instanceof AtlasError) throw err;
        lastError = err instanceof RetryableError ? err.message : describeError(err);
        if (attempt >= this.o.attempts) break;
        const backoff = Math.min(this.o.maxDelayMs, this.o.retryDelayMs * 2 ** (attempt - 1));
        const jittered = backoff / 2 + (Math.random() * backoff) / 2;
        const retryAfter = err instanceof RetryableError ? err.retryAfterMs : undefined;
        if (retryAfter !== undefined && retryAfter > this.o.maxRetryAfterS * 1000) {
          throw new AtlasError(
            'NETWORK',
            `${current}: the server asks to wait ${Math.round(retryAfter / 1000)} s (Retry-After), more than the ${this.o.maxRetryAfterS} s allowed`,
            { value: current, suggestion: 'run again later' },
          );
        }
        this.stats.retries++;
        try {
          await sleep(Math.max(jittered, retryAfter ?? 0), undefined, { signal });
        } catch {
          throw aborted();
        }
        attempt++;
      }
    }
    throw new AtlasError(
      'NETWORK',
      `cannot fetch ${current} after ${this.o.attempts} attempts: ${lastError}`,
      {
        value: current,
        suggestion: 'check the site is up; a re-run retries what failed',
      },
    );
  }

  private async once(url: string, options: GetOptions): Promise<HttpResult> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: '*/*',
      'accept-encoding': 'gzip, deflate, br',
    };
    if (options.etag) headers['if-none-match'] = options.etag;
    if (options.lastModified) headers['if-modified-since'] = options.lastModified;
    const res = await request(url, {
      method: 'GET',
      headers,
      dispatcher: this.agent,
      signal: options.signal,
      headersTimeout: this.o.headersTimeoutMs,
      bodyTimeout: this.o.bodyTimeoutMs,
    });
    // The next request waits 1/rate from this answer, not from when this one was sent: the
    // server then sees requests at least 1/rate apart, however long connecting or queueing took.
    this.bucket.restart();
    const h = flatHeaders(res.headers);
    if (res.statusCode === 429 || res.statusCode >= 500) {
      await res.body.dump().catch(() => undefined);
      throw new RetryableError(`HTTP ${res.statusCode}`, parseRetryAfter(h['retry-after']));
    }
    if (res.statusCode === 304 || (res.statusCode >= 300 && res.statusCode < 400) || res.statusCode >= 400) {
      await res.body.dump().catch(() => undefined);
      return { url, status: res.statusCode, headers: h, body: Buffer.alloc(0) };
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of res.body) {
      n += (chunk as Buffer).length;
      if (n > this.o.maxBytes) {
        res.body.destroy();
        throw new AtlasError('NETWORK', `${url} is larger than ${this.o.maxBytes} bytes`, { value: url });
      }
      chunks.push(chunk as Buffer);
    }
    this.stats.bytes += n;
    const declared = h['content-length'];
    if (declared !== undefined && !h['content-encoding'] && Number(declared) !== n) {
      throw new RetryableError(`truncated response: ${n} of ${declared} bytes`);
    }
    let body: Buffer = Buffer.concat(chunks, n);
    try {
      body = decode(body, h['content-encoding']);
    } catch (err) {
      throw new RetryableError(`cannot decode the response: ${describeError(err)}`);
    }
    return { url, status: res.statusCode, headers: h, body };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
