"""`make run` wires push, then poll (devstack/run.py): one ingest token per run (INGEST_TOKEN if set) for the web
and Celery processes, and the gateway started with the push plugin and the EventBridge events pointed at the
dashboard with that token."""

from __future__ import annotations

import pytest

from devstack import run
from devstack.paths import PROJECT_DIR

GATEWAY_PUSH = {
    "DURABLE_EXECUTION_PLUGINS",
    "DURABLE_CONSOLE_PUSH_URL",
    "DURABLE_CONSOLE_PUSH_TOKEN",
    "LOCAL_EVENTBRIDGE_URL",
    "LOCAL_EVENTBRIDGE_TOKEN",
}


def test_the_gateway_pushes_to_the_dashboard_with_the_runs_token():
    envs = run.process_environments(dashboard_port=8765, token="t0ken", plugin_installed=True, environ={})
    assert envs["gateway"] == {
        "DURABLE_EXECUTION_PLUGINS": "durable-console",
        "DURABLE_CONSOLE_PUSH_URL": "http://127.0.0.1:8765/ingest/operations",
        "DURABLE_CONSOLE_PUSH_TOKEN": "t0ken",
        "LOCAL_EVENTBRIDGE_URL": "http://127.0.0.1:8765/ingest/eventbridge",
        "LOCAL_EVENTBRIDGE_TOKEN": "t0ken",
    }
    for name in ("web", "worker", "beat"):
        assert envs[name] == {"INGEST_TOKEN": "t0ken"}
    assert set(envs) == {"gateway", "web", "worker", "beat"}  # no other process sees the token


def test_a_plugin_that_is_not_installed_is_not_named():
    """The SDK fails every durable function when DURABLE_EXECUTION_PLUGINS names a plugin it cannot find."""
    envs = run.process_environments(dashboard_port=8000, token="t", plugin_installed=False, environ={})
    assert envs["gateway"]["DURABLE_EXECUTION_PLUGINS"] == ""
    assert envs["gateway"]["LOCAL_EVENTBRIDGE_URL"] == "http://127.0.0.1:8000/ingest/eventbridge"


def test_the_users_own_plugin_choice_is_kept():
    envs = run.process_environments(
        dashboard_port=8000, token="t", plugin_installed=True, environ={"DURABLE_EXECUTION_PLUGINS": ""}
    )
    assert envs["gateway"]["DURABLE_EXECUTION_PLUGINS"] == ""


def test_the_token_is_the_environments_or_a_fresh_one():
    assert run.ingest_token({"INGEST_TOKEN": "from-the-environment"}) == "from-the-environment"
    first, second = run.ingest_token({}), run.ingest_token({"INGEST_TOKEN": "  "})
    assert first != second and min(len(first), len(second)) >= 32


def test_the_plugin_check_reads_the_sdks_entry_point_group():
    from aws_durable_execution_sdk_python.plugin_discovery import PLUGIN_ENTRY_POINT_GROUP

    assert run.PUSH_PLUGIN_GROUP == PLUGIN_ENTRY_POINT_GROUP
    assert isinstance(run.push_plugin_installed(), bool)


def _started_environments(monkeypatch, tmp_path) -> dict[str, dict[str, str]]:
    """Runs devstack's launcher with every process start recorded (with its environment) instead of made."""
    started: dict[str, dict[str, str]] = {}

    def start(self, name, command, cwd=PROJECT_DIR):
        started[name] = {**self.env, **self.process_env.get(name, {})}
        self.processes[name] = None
        if name == "web":
            raise SystemExit("recorded")

    (tmp_path / ".seeded").write_text("x")
    monkeypatch.setattr(run.Supervisor, "start", start)
    monkeypatch.setattr(run.Supervisor, "run_once", lambda self, name, command: None)
    monkeypatch.setattr(run.Supervisor, "log", lambda self, name, line: None)
    monkeypatch.setattr(run.Supervisor, "stop", lambda self: self.stopping.set())
    monkeypatch.setattr(run, "var_dir", lambda: tmp_path)
    monkeypatch.setattr(run.signal, "signal", lambda *args: None)
    monkeypatch.setattr(run, "_check_ports_free", lambda ports: None)
    monkeypatch.setattr(run, "push_plugin_installed", lambda: True)
    monkeypatch.setattr(run.dynamodb_local, "command", lambda *args: ["java", "-jar", "DynamoDBLocal.jar"])
    monkeypatch.setattr(run.dynamodb_local, "working_dir", lambda var: tmp_path)
    monkeypatch.setattr(run.services, "wait_for_http", lambda *args, **kwargs: None)
    monkeypatch.setattr(run.services, "wait_for_port", lambda *args, **kwargs: None)
    monkeypatch.setenv("DASHBOARD_PORT", "8765")
    for name in GATEWAY_PUSH:
        monkeypatch.delenv(name, raising=False)
    assert run.main() == 1
    return started


@pytest.mark.parametrize("given", [None, "a-token-set-by-the-developer"])
def test_make_run_gives_each_process_what_it_needs(monkeypatch, tmp_path, given):
    if given:
        monkeypatch.setenv("INGEST_TOKEN", given)
    else:
        monkeypatch.delenv("INGEST_TOKEN", raising=False)
    started = _started_environments(monkeypatch, tmp_path)
    token = started["web"]["INGEST_TOKEN"]
    assert token == given if given else len(token) >= 32
    assert started["worker"]["INGEST_TOKEN"] == started["beat"]["INGEST_TOKEN"] == token
    gateway = started["gateway"]
    assert gateway["DURABLE_EXECUTION_PLUGINS"] == "durable-console"
    assert gateway["DURABLE_CONSOLE_PUSH_URL"] == "http://127.0.0.1:8765/ingest/operations"
    assert gateway["LOCAL_EVENTBRIDGE_URL"] == "http://127.0.0.1:8765/ingest/eventbridge"
    assert gateway["DURABLE_CONSOLE_PUSH_TOKEN"] == gateway["LOCAL_EVENTBRIDGE_TOKEN"] == token
    if not given:  # a generated token reaches only the processes that use it
        assert all("INGEST_TOKEN" not in started[name] for name in ("gateway", "emulator", "dynamodb"))
    # The functions' plugin runs only in the gateway: the console's own processes do not load it.
    assert all(not GATEWAY_PUSH & set(started[name]) for name in ("web", "worker", "beat", "emulator"))
