// Every operating error lockstep/client raises is made here: a typed error with a stable `code` and
// a message that says what happened and what to do. Programmer errors are assertions.

export type ClientErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CLIENT_DEADLINE'
  | 'ERR_CLIENT_STATUS'
  | 'ERR_CLIENT_PROTOCOL'
  | 'ERR_CLIENT_LIMIT'
  | 'ERR_CLIENT_CLOSED';

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ClientErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.details = details;
  }
}

/** Status and body texts are quoted in messages only up to this many characters. */
const QUOTE_CHARS_MAX = 300;

function quote(text: string): string {
  const t = text.length > QUOTE_CHARS_MAX ? `${text.slice(0, QUOTE_CHARS_MAX)}…` : text;
  return JSON.stringify(t);
}

export function usage(message: string): ClientError {
  return new ClientError('ERR_USAGE', message);
}

export function deadline(requestId: string, path: string, deadlineMs: number, tried: string[], lastError: string): ClientError {
  const counts = new Map<string, number>();
  for (const node of tried) counts.set(node, (counts.get(node) ?? 0) + 1);
  const list = [...counts].map(([node, n]) => `${node} ×${n}`).join(', ') || 'none';
  return new ClientError(
    'ERR_CLIENT_DEADLINE',
    `request ${requestId} (POST ${path}): no node answered within ${deadlineMs} ms (tried ${list}; ` +
      `last error: ${lastError || 'none'}); start the cluster or raise deadlineMs`,
    { requestId, path, deadlineMs, tried, lastError },
  );
}

export function status(requestId: string, path: string, node: string, code: number, text: string): ClientError {
  return new ClientError(
    'ERR_CLIENT_STATUS',
    `request ${requestId} (POST ${path}) was refused by ${node} with status ${code}: ${quote(text)}. ` +
      `This is the service's definite answer, so it was not resent; fix the request.`,
    { requestId, path, node, status: code, body: text },
  );
}

export function protocol(requestId: string, path: string, node: string, why: string): ClientError {
  return new ClientError(
    'ERR_CLIENT_PROTOCOL',
    `request ${requestId} (POST ${path}): ${node} answered 200 but ${why}; it does not follow the ` +
      `lockstep wire protocol. Point the client at lockstep nodes.`,
    { requestId, path, node, why },
  );
}

export function replyTooLarge(requestId: string, path: string, node: string, replyBytesMax: number): ClientError {
  return new ClientError(
    'ERR_CLIENT_LIMIT',
    `request ${requestId} (POST ${path}): the reply from ${node} is larger than replyBytesMax ` +
      `(${replyBytesMax} bytes); raise replyBytesMax.`,
    { requestId, path, node, replyBytesMax },
  );
}

export function closed(requestId: string | undefined): ClientError {
  return new ClientError(
    'ERR_CLIENT_CLOSED',
    `${requestId ? `request ${requestId}: ` : ''}the client was closed; make a new Client to send more requests.`,
    { requestId },
  );
}
