"""The local installation's own secret key: generated once, kept in a file only its owner can read.

Local mode never falls back to a fixed key (anyone who knows it could forge sessions and signed cursors):
the first process to start creates `var/secret_key` (mode 0600) atomically, every later one reads it.
Imported by the settings, so it uses nothing of Django.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def local_secret_key(path: Path) -> str:
    """The key stored at `path`, created (60 random url-safe bytes, mode 0600) when missing."""
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_urlsafe(60)
    try:
        # O_EXCL: two processes starting at once cannot both write; the loser reads the winner's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # the winner may not have written it yet
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} exists but is empty: delete it to generate a new key") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(candidate + "\n")
    return candidate
