"""Test workflows registered on the test session's gateway and emulator.

Each entry is `NAME=module:function[,timeout=SECONDS][,retention=DAYS][,plain]`.
"""

_SYNC = "tests.workflows.sync_workflows"

TEST_FUNCTIONS: list[str] = [
    f"SyncRetries={_SYNC}:retries_handler,timeout=120",
    f"SyncWaits={_SYNC}:waits_handler,timeout=120",
    f"SyncCallbacks={_SYNC}:callbacks_handler,timeout=600",
    f"SyncConcurrency={_SYNC}:concurrency_handler,timeout=120",
    f"SyncInvoke={_SYNC}:invoke_handler,timeout=120",
    f"SyncInvokeTarget={_SYNC}:invoke_target_handler,timeout=120",
    f"SyncLarge={_SYNC}:large_handler,timeout=120",
    f"SyncQuick={_SYNC}:quick_handler,timeout=120",
    f"SyncHold={_SYNC}:hold_handler,timeout=7200",
    f"SyncFlakyInvocation={_SYNC}:flaky_invocation_handler,timeout=120",
]
