// The entry of `lockstep/client`: the client of a replicated lockstep service (see client.ts for
// what it guarantees, protocol.ts for the wire contract).

export { Client, type Reply, type ClientStats, type ReplyListener } from './client.js';
export { type ClientOptions, optionsDefault, NODES_MAX } from './options.js';
export { ClientError, type ClientErrorCode } from './errors.js';
export { Seen } from './seen.js';
export { Retry, type RetryPolicy, type Step } from './retry.js';
export { REQUEST_ID_HEADER, OUTPUT_ID_HEADER, ROLE_HEADER, STATUS_NOT_LIVE, requestId } from './protocol.js';
