// The wire contract between lockstep/client and a replicated service's HTTP nodes. This file owns
// it, so a server written against the contract can import the same names:
//
//   request   POST <node base URL><path>
//             content-type: application/json
//             x-lockstep-request-id: <clientId>:<n>      n counts from 1 per client
//             body: JSON
//   success   200, x-lockstep-output-id: <thread>:<seq>  (deterministic across a failover), body: JSON
//   not live  503 (the backup adds x-lockstep-role: backup), or connection refused or reset, or no
//             answer in time: the client resends the same request id to the next node
//   refusal   any other status: the service's definite answer; the client does not resend

export const REQUEST_ID_HEADER = 'x-lockstep-request-id';
export const OUTPUT_ID_HEADER = 'x-lockstep-output-id';
export const ROLE_HEADER = 'x-lockstep-role';

/** The status a node that is not live answers with. */
export const STATUS_NOT_LIVE = 503;
export const STATUS_OK = 200;

/** Client ids go into a header and before the ':' of every request id, so they are kept plain. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function requestId(clientId: string, n: number): string {
  return `${clientId}:${n}`;
}
