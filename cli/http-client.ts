// cli/http-client.ts — how the CLI reaches an agent's HTTP API.
//
// Owns: the HttpClient contract (one request → status, headers, body) the CLI commands use
// in both worlds (the simulator supplies a virtual one), the real implementation over
// node:http, and the connection-error sentence every command prints.
// Must never: interpret responses; commands do that.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface HttpClientResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpClient {
  /** `path` includes the query string. Rejects with a ConnectionError when the agent can't be
   *  reached, or once `signal` aborts (a blocking query its caller no longer needs). */
  request(addr: string, method: string, path: string, body?: Uint8Array, signal?: AbortSignal): Promise<HttpClientResponse>;
}

/** The agent could not be reached at all (as opposed to answering with an error). */
export class ConnectionError extends Error {
  constructor(
    readonly addr: string,
    readonly reason: string,
  ) {
    super(
      `Error connecting to Consul agent at ${addr}: ${reason}. Is an agent running? ` +
        'Use -http-addr or CONSUL_HTTP_ADDR to point elsewhere.',
    );
    this.name = 'ConnectionError';
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'no such host',
  EADDRNOTAVAIL: 'address not available',
};

const CONNECT_TIMEOUT_MS = 10_000;

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i <= 0) return { host: addr, port: 8500 };
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/** TLS settings for an https:// agent address, from Consul's environment variables. */
function tlsFromEnv(env: NodeJS.ProcessEnv): https.AgentOptions {
  const read = (name: string): Buffer | undefined => {
    const file = env[name];
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new ConnectionError('', `cannot read ${name}=${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const cas: Buffer[] = [];
  const caFile = read('CONSUL_CACERT');
  if (caFile) cas.push(caFile);
  const caPath = env['CONSUL_CAPATH'];
  if (caPath) {
    try {
      for (const n of fs.readdirSync(caPath).filter((f) => /\.(pem|crt)$/i.test(f)).sort()) cas.push(fs.readFileSync(`${caPath}/${n}`));
    } catch (e) {
      throw new ConnectionError('', `cannot read CONSUL_CAPATH=${caPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const ca = cas.length ? cas : undefined;
  const cert = read('CONSUL_CLIENT_CERT');
  const key = read('CONSUL_CLIENT_KEY');
  const verify = !/^(0|false|f)$/i.test(env['CONSUL_HTTP_SSL_VERIFY'] ?? '');
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: verify,
    ...(env['CONSUL_TLS_SERVER_NAME'] ? { servername: env['CONSUL_TLS_SERVER_NAME'] } : {}),
  };
}

/** The real client: one keep-alive agent per process, no overall timeout (blocking queries
 *  may legitimately take minutes), but a connect timeout so a dead address fails fast. */
export function nodeHttpClient(): HttpClient {
  const agent = new http.Agent({ keepAlive: true });
  let tlsAgent: https.Agent | null = null;
  return {
    request(addr, method, path, body, signal) {
      const secure = addr.startsWith('https://');
      const bare = secure ? addr.slice('https://'.length) : addr;
      const { host, port } = splitHostPort(bare);
      const headers: Record<string, string> = body ? { 'content-length': String(body.length) } : {};
      // CONSUL_HTTP_TOKEN rides in the header, unless the command put a ?token= on the path.
      const token = process.env['CONSUL_HTTP_TOKEN'];
      if (token && !/[?&]token=/.test(path)) headers['x-consul-token'] = token;
      return new Promise((resolve, reject) => {
        let send: typeof http.request;
        let via: http.Agent;
        if (secure) {
          try {
            tlsAgent ??= new https.Agent({ keepAlive: true, ...tlsFromEnv(process.env) });
          } catch (e) {
            reject(e instanceof ConnectionError ? new ConnectionError(addr, e.reason) : e);
            return;
          }
          send = https.request as unknown as typeof http.request;
          via = tlsAgent;
        } else {
          send = http.request;
          via = agent;
        }
        const req = send({ host, port, method, path, agent: via, signal, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers, body: new Uint8Array(Buffer.concat(chunks)) });
          });
          res.on('error', (err) => reject(new ConnectionError(addr, err.message)));
        });
        const connectTimer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
        req.on('socket', (s) => {
          if (!s.connecting) clearTimeout(connectTimer);
          else s.once('connect', () => clearTimeout(connectTimer));
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(connectTimer);
          reject(new ConnectionError(addr, REASONS[err.code ?? ''] ?? err.message));
        });
        req.on('close', () => clearTimeout(connectTimer));
        if (body) req.write(body);
        req.end();
      });
    },
  };
}
