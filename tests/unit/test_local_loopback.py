"""Local mode serves only on loopback: `make run` (devstack/run.py) binds the web server to 127.0.0.1 and the
local ALLOWED_HOSTS default names loopback hosts only (a DNS-rebinding page cannot talk to the console)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from devstack import run
from devstack.paths import PROJECT_DIR

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Django's test client host (added by Django's own test set-up anyway); no DNS name points a browser at it.
TEST_CLIENT_HOST = "testserver"


def _host(address: str) -> str:
    """The host of a runserver `addrport` (`8000`, `127.0.0.1:8000`, `[::1]:8000`, `0.0.0.0:8000`)."""
    if address.isdigit():
        return "127.0.0.1"  # runserver's own default
    return address.rsplit(":", 1)[0] if ":" in address else address


def test_make_run_binds_the_web_server_to_loopback(monkeypatch, tmp_path):
    """Runs devstack's launcher with every process start recorded instead of made; stops at the web server."""
    started: dict[str, list[str]] = {}

    def start(self, name, command, cwd=PROJECT_DIR):
        started[name] = command
        self.processes[name] = None  # nothing is started
        if name == "web":
            raise SystemExit("recorded")  # main() logs it, stops and returns 1

    (tmp_path / ".seeded").write_text("x")
    monkeypatch.setattr(run.Supervisor, "start", start)
    monkeypatch.setattr(run.Supervisor, "run_once", lambda self, name, command: None)
    monkeypatch.setattr(run.Supervisor, "log", lambda self, name, line: None)
    monkeypatch.setattr(run.Supervisor, "stop", lambda self: self.stopping.set())  # no process to signal
    monkeypatch.setattr(run, "var_dir", lambda: tmp_path)
    monkeypatch.setattr(run.signal, "signal", lambda *args: None)  # keep pytest's own SIGTERM handler
    monkeypatch.setattr(run, "_check_ports_free", lambda ports: None)
    monkeypatch.setattr(run.dynamodb_local, "command", lambda *args: ["java", "-jar", "DynamoDBLocal.jar"])
    monkeypatch.setattr(run.dynamodb_local, "working_dir", lambda var: tmp_path)
    monkeypatch.setattr(run.services, "wait_for_http", lambda *args, **kwargs: None)
    monkeypatch.setattr(run.services, "wait_for_port", lambda *args, **kwargs: None)
    monkeypatch.setenv("DASHBOARD_PORT", "8765")
    monkeypatch.delenv("EMAIL_URL", raising=False)
    assert run.main() == 1
    web = started["web"]
    assert "runserver" in web, web
    address = web[-1]
    assert address.endswith(":8765") and _host(address) in LOOPBACK, web
    # The SMTP sink (started when EMAIL_URL is unset) listens on its loopback default.
    mail = started["mail"]
    assert "devstack.mail_sink" in mail and "--host" not in mail, mail


@pytest.mark.parametrize("address", ["0.0.0.0:8000", "[::]:8000", "192.168.1.5:8000"])
def test_the_bind_check_recognises_a_public_address(address):
    assert _host(address) not in LOOPBACK


def test_the_local_allowed_hosts_default_is_loopback_only(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("ALLOWED_HOSTS", "SECRET_KEY")}
    env.update(
        {"DURABLE_CONSOLE_ENV": "local", "DJANGO_SETTINGS_MODULE": "dashboard.settings", "VAR_DIR": str(tmp_path)}
    )
    code = "import json; from django.conf import settings; print(json.dumps(settings.ALLOWED_HOSTS))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    hosts = json.loads(out.stdout.strip().splitlines()[-1])
    assert hosts and "127.0.0.1" in hosts
    assert set(hosts) <= LOOPBACK | {TEST_CLIENT_HOST}, hosts
