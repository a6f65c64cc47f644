"""Several deliverers at once on PostgreSQL (the production path): each notification is sent exactly once.

SQLite in memory (make test) fails concurrent writers with "table is locked" instead of making them wait, so this
race runs under `make test-production` only, where four threads with their own connections deliver together.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from notifications.delivery import Draft, notifications_create, notifications_deliver
from notifications.models import Channel, Kind, Mode, Notification, Status

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

ROWS = 40
WORKERS = 4


def test_four_concurrent_deliverers_never_send_one_row_twice(smtp_sink, http_receiver, settings):
    settings.NOTIFY_WEBHOOK_SECRET = "s"
    drafts = [
        Draft(
            Kind.ORDER_OUTCOME,
            f"o-{i}",
            f"user{i}@example.com",
            Channel.EMAIL,
            None,
            Mode.IMMEDIATE,
            {"order_id": f"o-{i}", "outcome": "approved"},
        )
        for i in range(ROWS)
    ] + [
        Draft(
            Kind.ORDER_OUTCOME,
            f"o-{i}",
            http_receiver.url,
            Channel.WEBHOOK,
            None,
            Mode.IMMEDIATE,
            {"order_id": f"o-{i}", "outcome": "approved"},
        )
        for i in range(ROWS // 4)
    ]
    assert notifications_create(drafts=drafts) == ROWS + ROWS // 4
    barrier = threading.Barrier(WORKERS, timeout=30)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait()
            results.append(notifications_deliver())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, daemon=True) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(r["sent"] for r in results) == ROWS + ROWS // 4
    messages = smtp_sink.wait_for(ROWS)
    ids = Counter(m["Message-ID"] for m in messages)
    assert len(messages) == ROWS and max(ids.values()) == 1
    requests = http_receiver.wait_for(ROWS // 4)
    assert len(requests) == ROWS // 4
    assert len({r.headers["x-durable-console-delivery"] for r in requests}) == ROWS // 4
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
