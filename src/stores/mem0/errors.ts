import { StoreError, type StoreOperation } from '../../core/errors.js';

/** Error codes of Node's network stack that mean "could not talk to the server", worth a retry. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Maps whatever a mem0 call threw to a `StoreError`: mem0ai's error classes (their `errorCode` is
 * `HTTP_<status>`), Node's `TypeError: fetch failed`, a body that is not JSON, and the plain
 * `Error`s of client-side validation and of the OSS `Memory`. The message never repeats mem0's
 * response body, which may quote memory text; the original error stays in `cause`.
 */
export function toMem0StoreError(error: unknown, store: string, operation: StoreOperation): StoreError {
  if (StoreError.isInstance(error)) return error;

  const status = findStatus(error);
  if (status !== undefined) {
    return new StoreError(`${describeStatus(status)} (mem0 ${operation}).`, {
      store,
      operation,
      status,
      retryable: status === 408 || status === 429 || status >= 500,
      cause: error,
    });
  }
  const networkCode = findNetworkCode(error);
  if (networkCode !== undefined) {
    return new StoreError(
      `Could not reach mem0 for ${operation} (${networkCode}); check the host, the network and that mem0 is up.`,
      { store, operation, retryable: true, cause: error },
    );
  }
  if (error instanceof SyntaxError) {
    return new StoreError(
      `mem0 answered ${operation} with a body that is not JSON; a proxy or an incompatible server may be in the way.`,
      // mem0 answered 2xx: the write may have been applied, so trying again could store it twice.
      { store, operation, retryable: false, cause: error },
    );
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new StoreError(`mem0 ${operation} failed (${name}): ${safeMessage(error)}`, {
    store,
    operation,
    retryable: false,
    cause: error,
  });
}

function describeStatus(status: number): string {
  if (status === 401 || status === 403) {
    return `mem0 rejected the API key (HTTP ${status}); check MEM0_API_KEY or the apiKey option`;
  }
  if (status === 404) return 'mem0 has no such memory (HTTP 404)';
  if (status === 429) return 'mem0 is rate-limiting this key (HTTP 429); try again later';
  if (status === 408 || status >= 500) return `mem0 is unavailable or failing (HTTP ${status}); try again later`;
  if (status === 413) return 'mem0 refused the request as too large or over quota (HTTP 413)';
  return `mem0 rejected the request (HTTP ${status}); the request does not fit what mem0 accepts`;
}

/** The HTTP status of a mem0ai error (`errorCode: "HTTP_429"`) or an SDK error with `status`, up the cause chain. */
export function findStatus(error: unknown): number | undefined {
  for (const link of causeChain(error)) {
    const code = (link as { errorCode?: unknown }).errorCode;
    if (typeof code === 'string') {
      const match = /^HTTP_(\d{3})$/.exec(code);
      if (match?.[1]) return Number(match[1]);
    }
    const status = (link as { status?: unknown }).status;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) return status;
  }
  return undefined;
}

function findNetworkCode(error: unknown): string | undefined {
  const chain = causeChain(error);
  // The most specific first: Node's code (ECONNREFUSED) sits under undici's "fetch failed".
  for (const link of chain) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && networkCodes.has(code)) return code;
  }
  for (const link of chain) {
    if (link instanceof TypeError && link.message === 'fetch failed') return 'fetch failed';
    if (link instanceof Error && link.name === 'APIConnectionError') return 'connection error';
  }
  return undefined;
}

function causeChain(error: unknown): object[] {
  const chain: object[] = [];
  let link: unknown = error;
  while (typeof link === 'object' && link !== null && chain.length < 6 && !chain.includes(link)) {
    chain.push(link);
    link = (link as { cause?: unknown }).cause;
  }
  return chain;
}

// Client-side validation and OSS messages name options, not memory text; still, keep them short.
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}
