"""`make run`: start the whole local system and supervise it.

DynamoDB Local, the durable-execution emulator, the Lambda gateway (running the
order-approval function), a Celery worker, Celery beat, the Django dashboard and,
unless EMAIL_URL is set, an SMTP sink that keeps the console's emails under var/mail/,
in one log stream with a prefix per process. Ctrl-C stops everything it started.
Data lives under var/ and survives restarts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devstack import dynamodb_local, services
from devstack.paths import PROJECT_DIR, var_dir

COLOURS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m", "\033[37m"]
RESET = "\033[0m"


@dataclass(frozen=True)
class Ports:
    dashboard: int
    gateway: int
    dynamodb: int
    emulator: int
    mail: int | None  # the SMTP sink's port; None when EMAIL_URL names another server

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            dashboard=int(os.environ.get("DASHBOARD_PORT", "8000")),
            gateway=int(os.environ.get("LAMBDA_GATEWAY_PORT", "3001")),
            dynamodb=int(os.environ.get("DYNAMODB_LOCAL_PORT", "8100")),
            emulator=int(os.environ.get("DURABLE_EMULATOR_PORT", "5000")),
            mail=None if os.environ.get("EMAIL_URL") else int(os.environ.get("MAIL_SINK_PORT", "1025")),
        )


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self.failed = False
        self.lock = threading.Lock()
        self.width = 9

    def log(self, name: str, line: str) -> None:
        prefix = f"{name:<{self.width}}| "
        if sys.stdout.isatty():
            prefix = f"{COLOURS[sum(map(ord, name)) % len(COLOURS)]}{prefix}{RESET}"
        with self.lock:
            sys.stdout.write(prefix + line.rstrip("\n") + "\n")
            sys.stdout.flush()

    def start(self, name: str, command: list[str], cwd: Path = PROJECT_DIR) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.log(name, line)
        code = process.wait()
        if not self.stopping.is_set():
            self.log(name, f"exited with code {code}; stopping everything")
            self.failed = True
            self.stopping.set()

    def run_once(self, name: str, command: list[str]) -> None:
        """Run a set-up command to completion, streaming its output; fail loudly."""
        process = subprocess.run(command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True)
        for line in (process.stdout + process.stderr).splitlines():
            self.log(name, line)
        if process.returncode != 0:
            raise SystemExit(f"{name} failed with code {process.returncode}")

    def stop(self) -> None:
        """SIGTERM each process (not its group: Celery's warm shutdown stops its own pool),
        then SIGKILL whatever is left of each process group."""
        self.stopping.set()
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _check_ports_free(ports: Ports) -> None:
    taken = [f"{label} {port}" for label, port in vars(ports).items() if port and services.port_open(port)]
    if taken:
        raise SystemExit(
            "These ports are already in use: "
            + ", ".join(taken)
            + ". Is another `make run` still running? Stop it, or choose other ports with "
            "DASHBOARD_PORT / LAMBDA_GATEWAY_PORT / DYNAMODB_LOCAL_PORT / DURABLE_EMULATOR_PORT / MAIL_SINK_PORT."
        )


def main() -> int:
    ports = Ports.from_env()
    var = var_dir()
    python = sys.executable
    try:
        dynamodb_command = dynamodb_local.command(var, ports.dynamodb, var / "dynamodb")
    except dynamodb_local.LocalStackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _check_ports_free(ports)

    gateway_url = f"http://127.0.0.1:{ports.gateway}"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DURABLE_CONSOLE_ENV": "local",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ports.dynamodb}",
        "AWS_ENDPOINT_URL_LAMBDA": gateway_url,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1")),
        "AWS_REGION": os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
    }
    if ports.mail:
        env["MAIL_SINK_PORT"] = str(ports.mail)
    supervisor = Supervisor(env)
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stopping.set())
    try:
        if ports.mail:
            supervisor.start("mail", services.mail_sink_command(port=ports.mail, folder=var / "mail"))
            services.wait_for_port(ports.mail, process=supervisor.processes["mail"])
        supervisor.start("dynamodb", dynamodb_command, cwd=dynamodb_local.working_dir(var))
        supervisor.start(
            "emulator",
            services.emulator_command(
                port=ports.emulator,
                gateway_url=gateway_url,
                store_path=var / "durable-executions.sqlite3",
                region=env["AWS_REGION"],
            ),
        )
        supervisor.start(
            "gateway", services.gateway_command(port=ports.gateway, emulator_url=f"http://127.0.0.1:{ports.emulator}")
        )
        for name, url, probe in (
            ("dynamodb", f"http://127.0.0.1:{ports.dynamodb}", ""),
            ("emulator", f"http://127.0.0.1:{ports.emulator}", "/health"),
            ("gateway", gateway_url, "/health"),
        ):
            services.wait_for_http(url + probe, process=supervisor.processes[name])
            supervisor.log(name, f"ready on {url}")

        supervisor.run_once("migrate", [python, "manage.py", "migrate", "--noinput"])
        supervisor.run_once("bootstrap", [python, "manage.py", "bootstrap_local"])
        seeded_marker = var / ".seeded"
        if not seeded_marker.exists():
            supervisor.run_once(
                "seed", [python, "manage.py", "seed_orders", "--count", os.environ.get("SEED_ORDERS", "6")]
            )
            seeded_marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

        supervisor.start(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
                "--hostname",
                "worker@%h",
            ],
        )
        supervisor.start(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(var / "celerybeat-schedule"),
            ],
        )
        supervisor.start("web", [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{ports.dashboard}"])
        services.wait_for_http(f"http://127.0.0.1:{ports.dashboard}/healthz", process=supervisor.processes["web"])

        password_file = var / "demo-password"
        password = os.environ.get("DEMO_PASSWORD") or (
            password_file.read_text().strip() if password_file.exists() else "(see bootstrap output above)"
        )
        banner = [
            "",
            f"Durable Console is up: http://127.0.0.1:{ports.dashboard}/",
            f"  sign in as approver, operator or admin — password: {password}",
            f"  health: http://127.0.0.1:{ports.dashboard}/healthz   Lambda gateway: {gateway_url}"
            f"   DynamoDB Local: http://127.0.0.1:{ports.dynamodb}",
            (
                f"  emails: var/mail/*.eml (SMTP sink on 127.0.0.1:{ports.mail})"
                if ports.mail
                else "  emails: sent through EMAIL_URL"
            ),
            "  Ctrl-C stops everything; data stays under var/.",
            "",
        ]
        for line in banner:
            supervisor.log("run", line)
        while not supervisor.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except (SystemExit, TimeoutError, RuntimeError) as error:
        supervisor.log("run", f"error: {error}")
        supervisor.stop()
        return 1
    finally:
        supervisor.log("run", "stopping ...")
        supervisor.stop()
    return 1 if supervisor.failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
