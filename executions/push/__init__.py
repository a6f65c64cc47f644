"""Push, then poll: what running functions report (the push plugin, functions/console_push) and what EventBridge
announces (status changes), shown at once and confirmed by the next history fetch.

The history stays the source of truth for what is stored. A push only
- records an operation's newest reported state (`PushedOperation`, highest version wins, in the database) and
  shows it over the history's copy, marked "reported, awaiting history", until the history shows it;
- records an execution status the history has no event for yet (`Execution.pushed_status`): an execution that
  ended is shown ended at once, and a sync of an older history never makes it look running again;
- puts the execution at the head of the poll queue, so one history fetch confirms it.

One job per module (this package imports nothing at load time, so the sync can use its pure parts):
- `wire`: the wire formats (the plugin's schema 1, EventBridge's status-change event), parsed and checked;
- `overlay`: versions, whether the history already shows a reported state, and the overlay of reported states
  on the history's operations (pure);
- `settle`: reported states the history now shows, or never will, are settled (called by the derive step);
- `ingest`: the services `operations_push_ingest` and `eventbridge_event_ingest`.
"""
