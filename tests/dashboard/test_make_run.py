"""`make run` itself: start the stack as the README says, wait for /healthz, sign in, stop with Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from dashboard.localstack import dynamodb_local
from dashboard.localstack.paths import PROJECT_DIR, var_dir
from dashboard.localstack.services import free_port, port_open, wait_for_http

pytestmark = pytest.mark.slow


def test_make_run_starts_everything_and_ctrl_c_stops_it(tmp_path):
    # Reuse the already downloaded DynamoDB Local instead of fetching it again.
    shared = var_dir() / "dynamodb-local"
    dynamodb_local.fetch(var_dir())
    (tmp_path / "dynamodb-local").symlink_to(shared)
    ports = {name: free_port() for name in ("DASHBOARD_PORT", "LAMBDA_GATEWAY_PORT", "DYNAMODB_LOCAL_PORT",
                                            "DURABLE_EMULATOR_PORT")}
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
           and not k.startswith("AWS_")}
    env.update({name: str(port) for name, port in ports.items()})
    env.update({"VAR_DIR": str(tmp_path), "DEMO_PASSWORD": "make-run-secret", "SEED_ORDERS": "2"})
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["make", "run"], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
    try:
        wait_for_http(f"{base}/healthz", timeout=180, process=process)
        prefixes = ("dynamodb ", "emulator ", "gateway  ", "worker   ", "beat     ", "web      ", "seed     ")
        deadline = time.monotonic() + 90
        while True:  # the web process answers before the banner; a loaded machine starts the worker late
            output = log_path.read_text(errors="replace")
            started = all(re.search(rf"^{prefix}\| ", output, re.MULTILINE) for prefix in prefixes)
            if ("Durable Console is up" in output and started) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            health = json.load(response)
        assert health["status"] == "ok", health
        with urllib.request.urlopen(f"{base}/accounts/login/", timeout=10) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
        assert f"Durable Console is up: {base}/" in output
        assert "password: make-run-secret" in output
        # One log stream, a prefix per process; two seeded executions.
        for prefix in prefixes:
            assert re.search(rf"^{prefix}\| ", output, re.MULTILINE), f"no {prefix.strip()} lines"
        assert len(re.findall(r"^seed     \| \S+", output, re.MULTILINE)) == 2
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    time.sleep(1)
    still_open = [name for name, port in ports.items() if port_open(port)]
    assert still_open == [], f"ports still served after Ctrl-C: {still_open}\n{log_path.read_text()[-2000:]}"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left behind: {leftovers}"
