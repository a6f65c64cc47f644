"""Notifications benchmark: the beat task's check (notifications/scheduler.py) as pending items grow.

    python -m benchmarks notifications
    python -m benchmarks.notifications --sizes 10,100,1000

Runs in a child process on a throw-away SQLite database (var/ is untouched). For each size N it creates N
executions needing attention and serves N pending orders, then measures three check cycles:
  first   everything is new (N orders announced, or digested per approver; N executions to the operators),
  steady  nothing changed (what every check costs while items wait),
  due     the clock at half of every order's window (N reminders due).
It prints each cycle's SQL queries and time, and their ratios to the smallest N: the queries of `steady` must not
grow with N; `first` and `due` may grow only with the rows they write (bulk inserts of the due notifications).

The orders read is stubbed: `orders_page` and `order_get` (DynamoDB) return synthetic `Order` objects, since this
measures the check's database cost, not DynamoDB's. Executions, users, preferences and notification rows are real.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from benchmarks._child import child_run


def _child(sizes: list[int]) -> dict:
    import django

    django.setup()
    from dataclasses import replace
    from datetime import timedelta
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from approvals.order_records import Order, OrderStatus
    from approvals.orders_table import OrdersPage
    from core.roles import ADMINS, APPROVERS, OPERATORS
    from executions.models import Execution
    from notifications import scheduler
    from notifications.models import Notification, TrackedOrder

    call_command("migrate", verbosity=0)
    settings.NOTIFY_WEBHOOK_URLS = ["http://127.0.0.1:9/hook"]
    for name, role in [("ann", APPROVERS), ("bob", APPROVERS), ("cy", APPROVERS), ("ops", OPERATORS)]:
        user = User.objects.create_user(name, email=f"{name}@example.com")
        user.groups.add(Group.objects.get(name=role))
    admin = User.objects.create_user("admin", email="admin@example.com")
    admin.groups.add(Group.objects.get(name=ADMINS))

    state = {"orders": []}

    def orders_page(*, status, limit, start_key=None, created_after=None):
        # (the outcome lookback asks for decided orders: the synthetic orders are all pending)
        start = int(start_key["i"]) if start_key else 0
        chunk = state["orders"][start : start + limit] if status == OrderStatus.PENDING else []
        more = start + limit < len(state["orders"])
        return OrdersPage(orders=chunk, next_key={"i": str(start + limit)} if more else None, consumed_capacity=0.0)

    def order_get(*, order_id):
        return next(o for o in state["orders"] if o.order_id == order_id)

    scheduler.orders_page = orders_page
    scheduler.order_get = order_get

    def order(i: int, created) -> Order:
        return Order(
            order_id=f"order-{i:06d}",
            status=OrderStatus.PENDING,
            customer_name="Contoso",
            amount=Decimal("120.00"),
            items=[None, None],
            requested_by=f"req{i % 7}@example.com",
            created_at=created,
            created_at_raw=created.isoformat(),
            execution_arn=f"arn:bench:order:{i}",
            approval_deadline=created + timedelta(hours=24),
            approval_timeout_seconds=86400,
            has_callback=True,
            claimed_by="",
            claimed_at=None,
            claim_decision="",
            decided_by="",
            decided_at=None,
            decision_comment="",
            attributes={},
        )

    def cycle(now) -> dict:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            counts = scheduler.notifications_check(now=now)
            elapsed = time.perf_counter() - began
        return {"queries": len(queries), "ms": round(elapsed * 1000, 1), "created": counts.get("created", 0)}

    scheduler.notifications_check()  # warm up (imports, first connections), not measured
    results = []
    for size in sizes:
        Notification.objects.all().delete()
        TrackedOrder.objects.all().delete()
        Execution.objects.all().delete()
        now = timezone.now()
        state["orders"] = [order(i, now - timedelta(minutes=1)) for i in range(size)]
        Execution.objects.bulk_create(
            [
                Execution(
                    arn=f"arn:bench:execution:{i}",
                    name=f"exec-{i:06d}",
                    function_name="OrderApproval",
                    status="RUNNING",
                    started_at=now - timedelta(hours=2),
                    needs_attention=True,
                    attention_reasons=[{"code": "no_progress", "message": "No progress for 2 hours"}],
                )
                for i in range(size)
            ]
        )
        # Orders first seen now; the window's half passes 12 hours later.
        first = cycle(now)
        steady = cycle(now + timedelta(seconds=15))
        steady_again = cycle(now + timedelta(seconds=30))
        due = cycle(now + timedelta(hours=12, minutes=1))
        after = cycle(now + timedelta(hours=12, minutes=2))
        # Every order decided: none pending any more, each read once and told to its requester.
        decided = [replace(o, status=OrderStatus.APPROVED, decided_by="ann") for o in state["orders"]]
        state["orders"] = []
        scheduler.order_get = lambda *, order_id, decided=decided: next(o for o in decided if o.order_id == order_id)
        outcomes = cycle(now + timedelta(hours=13))
        scheduler.order_get = order_get
        results.append(
            {
                "size": size,
                "first": first,
                "steady": steady,
                "steady_again": steady_again,
                "due": due,
                "after_due": after,
                "outcomes": outcomes,
                "rows": Notification.objects.count(),
            }
        )
    return {"sizes": sizes, "results": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="pending orders (and executions needing attention)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    if args.child:
        print(json.dumps(_child(sizes)))
        return
    result = child_run(["-m", "benchmarks.notifications", "--child", "--sizes", args.sizes])
    rows = result["results"]
    base = rows[0]
    cycles = ("first", "steady", "steady_again", "due", "after_due", "outcomes")
    print("pending orders = executions needing attention = N; 3 approvers, 1 operator, 1 admin, 1 webhook URL")
    print(f"{'cycle':<13} {'N':>6} {'rows created':>13} {'queries':>8} {'x q vs N0':>10} {'ms':>9} {'x ms vs N0':>11}")
    for name in cycles:
        for row in rows:
            c, c0 = row[name], base[name]
            q_ratio = c["queries"] / c0["queries"] if c0["queries"] else 0
            ms_ratio = c["ms"] / c0["ms"] if c0["ms"] else 0
            print(
                f"{name:<13} {row['size']:>6,} {c['created']:>13,} {c['queries']:>8} {q_ratio:>9.2f}x "
                f"{c['ms']:>9} {ms_ratio:>10.1f}x"
            )
    last = rows[-1]
    print(
        f"N grows {last['size'] // base['size']}x: steady-cycle queries {base['steady']['queries']} -> "
        f"{last['steady']['queries']} ({last['steady']['queries'] / base['steady']['queries']:.2f}x), "
        f"time {last['steady']['ms'] / base['steady']['ms']:.1f}x"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
