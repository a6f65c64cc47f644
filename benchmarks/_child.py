"""Run a benchmark's measuring half in a child process, on a throw-away database and VAR_DIR (var/ is untouched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def child_run(args: list[str], *, env: dict[str, str] | None = None) -> dict:
    """`python <args>` in a local-mode child on its own SQLite database; the JSON its last output line prints.

    The child's other output lines are echoed; its stderr is this process's; a failed child ends the benchmark."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        child_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "VAR_DIR": tmp,
            "DURABLE_CONSOLE_ENV": "local",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        child = subprocess.run(
            [sys.executable, *args],
            cwd=PROJECT,
            env=child_env,
            stdout=subprocess.PIPE,
            text=True,
        )
    if child.returncode:  # its traceback is already on stderr, which it shares
        raise SystemExit(f"benchmark child failed with exit code {child.returncode}")
    *lines, last = child.stdout.strip().splitlines()
    for line in lines:
        print(line)
    return json.loads(last)
