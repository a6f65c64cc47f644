"""The unit tier: pure modules only, no local stack, Java, npm, Chromium or network (`make test-unit`).

The local stack and the browser are session fixtures that start only when a test asks for them; here a
test that asks for one (directly or through another fixture) is a collection error, so the tier stays
fast and runs on a machine that has none of them. Django settings are available; the database only
for tests marked `django_db`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

# Fixtures of tests/conftest.py (and pytest-django) that need the local stack, a browser or a server.
UNIT_DIR = Path(__file__).resolve().parent
STACK_FIXTURES = frozenset(
    {"local_stack", "aws", "lambda_client", "dynamodb_client", "browser", "browser_login", "live_server"}
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if UNIT_DIR not in Path(item.path).resolve().parents:
            continue
        needs = STACK_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if needs:
            raise pytest.UsageError(
                f"{item.nodeid} uses {', '.join(sorted(needs))}: the unit tier runs without the local stack "
                "and the browser; move the test to the tier of its app"
            )


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """A unit test that opens a connection to another machine fails at once instead of hanging."""
    connect = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"the unit tier has no network (connect to {address!r})")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
