"""`make test` and `make run` set up a fresh machine: scripts/system-packages.sh installs the Debian packages
the tests need when they are missing, and when it cannot, stops at once with the exact command to run
(instead of the browser tests failing one by one). `make test-unit` needs none of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from devstack.paths import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "system-packages.sh"
# What the script needs to look around, without chromium, sudo or apt-get.
TOOLS = ("java", "npm", "head", "sed", "grep", "id", "fc-list")
NOBODY = 65534


@pytest.fixture
def bin_without_chromium():
    """A PATH folder with java and npm but no chromium or sudo, readable by an unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="system-packages-"))
    folder.chmod(0o755)
    for tool in TOOLS:
        if found := shutil.which(tool):
            (folder / tool).symlink_to(found)
    yield folder
    shutil.rmtree(folder)


def _run(path: Path, *, as_nobody: bool = False, **env: str) -> subprocess.CompletedProcess:
    command = ["/bin/bash", str(SCRIPT), "test"]
    if as_nobody and os.geteuid() == 0:  # CI runs as root: run as a user who may not install
        command = [
            shutil.which("setpriv") or "/usr/bin/setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            *command,
        ]
    environment = {"PATH": str(path), "HOME": "/tmp", **env}
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, cwd="/")


def test_hidden_chromium_with_installing_forbidden_stops_with_the_command_to_run(bin_without_chromium):
    result = _run(bin_without_chromium, SYSTEM_PACKAGES_INSTALL="0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "missing system packages for make test: chromium" in result.stderr
    assert "sudo apt-get update && sudo apt-get install -y chromium" in result.stderr
    assert "SYSTEM_PACKAGES_INSTALL=0" in result.stderr
    assert "Installing" not in result.stdout


def test_hidden_chromium_for_a_user_without_root_or_sudo_stops_with_the_command_to_run(bin_without_chromium):
    (bin_without_chromium / "apt-get").symlink_to(shutil.which("true"))  # a Debian machine, but no root
    result = _run(bin_without_chromium, as_nobody=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not root and no password-less sudo" in result.stderr
    assert "sudo apt-get update && sudo apt-get install -y chromium" in result.stderr


def test_make_run_does_not_need_chromium(bin_without_chromium):
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT), "run"],
        env={"PATH": str(bin_without_chromium), "SYSTEM_PACKAGES_INSTALL": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""


def test_nothing_to_do_when_everything_is_there():
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT), "test"],
        env={**os.environ, "SYSTEM_PACKAGES_INSTALL": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""


def _make_plan(target: str) -> list[str]:
    """The commands `make <target>` would run (make -n), prerequisites first."""
    result = subprocess.run(
        ["make", "-n", target], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.splitlines()


def test_make_test_checks_the_system_packages_and_runs_the_gates_before_the_suite():
    plan = _make_plan("test")
    suite = next(i for i, line in enumerate(plan) if "-m pytest" in line)
    before = "\n".join(plan[:suite])
    assert "scripts/system-packages.sh test" in before
    for gate in ("ruff check .", "ruff format --check .", "lint-imports", "makemigrations --check --dry-run"):
        assert gate in before, gate


def test_make_run_checks_java_and_npm_only():
    plan = "\n".join(_make_plan("run"))
    assert "scripts/system-packages.sh run" in plan
    assert "system-packages.sh test" not in plan


def test_make_test_unit_needs_no_system_package_and_no_local_stack():
    plan = "\n".join(_make_plan("test-unit"))
    assert "system-packages" not in plan
    assert "dynamodb_local" not in plan
    assert "-m pytest tests/unit" in plan


def test_ci_runs_the_same_script():
    assert "scripts/system-packages.sh test" in (PROJECT_DIR / ".ci" / "run").read_text()
