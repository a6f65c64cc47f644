"""The local Lambda gateway: one HTTP endpoint that behaves like the Lambda API, with AWS's semantics.

- `POST /2015-03-31/functions/{name}/invocations`
  * with a durable invocation payload (sent by the durable-execution emulator,
    marked by the `X-Dex-Handler-Invoke` header) runs the registered handler
    in-process and returns its output; each such invocation is recorded (for
    `InvocationCompleted` events) and held while its execution is paused;
  * a plain Invoke of a durable function starts a durable execution in the
    emulator and returns its ARN (header `X-Amz-Durable-Execution-Arn`), as the
    real Lambda front door does;
  * a plain Invoke of a non-durable function runs it and returns its result.
- `/2025-12-01/...` (the durable-execution API) is served with AWS's semantics on top of
  the emulator; every difference of the emulator is translated here and only here:
  ordering, filters and markers of ListDurableExecutionsByFunction and
  GetDurableExecutionHistory (`translate`), AWS-shaped execution ARNs (`arns`),
  CallbackStartedDetails.Timeout/HeartbeatTimeout and InvocationCompletedDetails (`state`),
  CallbackTimeoutException for closed callbacks, Lambda-shaped errors (`errors`), and
  Pause/Resume/Delete, which the emulator lacks (`pause`).
- status events: with `LOCAL_EVENTBRIDGE_URL` set, the `Durable Execution Status Change`
  event AWS puts on EventBridge (RUNNING, then SUCCEEDED/FAILED/TIMED_OUT/STOPPED) is POSTed
  there, as an EventBridge API destination sends it, for every start and end the gateway
  observes (`eventbridge`; `LOCAL_EVENTBRIDGE_TOKEN` as `Authorization: Bearer`).
- errors have Lambda's shape (`X-Amzn-ErrorType` header, `Type`/`Message` body);
  a handler that raises answers 200 with `X-Amz-Function-Error: Unhandled`;
  requests over 6 MB answer 413.
- faults on demand, for tests (a non-AWS path):
  `POST /_gateway/faults {"throttle": N, "operation": "ListDurableExecutionsByFunction" | "*",
  "retryAfterSeconds": 1}` makes the next N matching requests answer 429
  `TooManyRequestsException` (with `Retry-After`); `GET` shows, `DELETE` clears. `"*"`
  matches console-facing operations and Invoke, never the SDK's checkpoint/state calls.

Run: python -m functions.gateway --port 3001 --emulator http://127.0.0.1:5000 \
        [--function NAME=module:function[,timeout=S][,retention=D][,plain] ...] [--eventbridge-url URL]
"""

from functions.gateway.server import Gateway, main, serve

__all__ = ["Gateway", "main", "serve"]
