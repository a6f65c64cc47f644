"""The local installation's secret key: generated once, private to its owner, never the fixed one."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from core.secrets import local_secret_key


def test_a_key_is_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "secret_key"
    key = local_secret_key(path)
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret_key(path) == key  # every later start reads the same key
    assert local_secret_key(tmp_path / "other" / "secret_key") != key  # each installation has its own


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path = tmp_path / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: local_secret_key(path), range(16)))
    assert len(keys) == 1


def test_local_mode_does_not_use_a_fixed_key():
    assert settings.SECRET_KEY != "local-development-only-not-secret"
    assert len(settings.SECRET_KEY) >= 50
