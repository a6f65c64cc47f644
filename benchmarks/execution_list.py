"""Execution list benchmark: keyset pagination vs OFFSET pagination with 100,000 executions.

    python -m benchmarks execution_list
    python -m benchmarks.execution_list --executions 100000

Runs in a child process on a throw-away SQLite database (var/ is untouched). Reports, in one run,
the time to render the list page at increasing depths with our keyset cursors and with the
OFFSET/LIMIT baseline a paginator would use, and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks._child import child_run


def _measure(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _child(executions: int) -> dict:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from core.pagination import keyset_cursor
    from core.roles import OPERATORS
    from executions.models import Execution, MonitoredFunction
    from executions.selectors import ExecutionFilters, execution_list, executions_filtered
    from executions.selectors.listing import CURSOR_SALT

    call_command("migrate", verbosity=0)
    function = MonitoredFunction.objects.create(name="OrderApproval", last_sync_succeeded_at=timezone.now())
    now = timezone.now()
    statuses = ["SUCCEEDED"] * 14 + ["FAILED", "TIMED_OUT", "STOPPED", "RUNNING"]
    batch = []
    for i in range(executions):
        status = statuses[i % len(statuses)]
        started = now - timedelta(seconds=i * 7)
        batch.append(
            Execution(
                arn=f"arn:bench:{i}",
                name=f"exec-{i:06d}",
                function=function,
                function_name=function.name,
                status=status,
                started_at=started,
                ended_at=None if status == "RUNNING" else started + timedelta(seconds=5),
                duration_ms=None if status == "RUNNING" else 5000 + i % 977,
                needs_attention=i % 97 == 0,
                has_failures=status == "FAILED",
            )
        )
        if len(batch) == 5000:
            Execution.objects.bulk_create(batch)
            batch = []
    Execution.objects.bulk_create(batch)

    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name=OPERATORS))
    client = Client()
    client.force_login(user)
    page_size = 50
    results = {"executions": executions, "page_size": page_size, "depths": []}
    for filters, label in ((ExecutionFilters(), "all"), (ExecutionFilters(statuses=["FAILED"]), "status=FAILED")):
        query = executions_filtered(filters).order_by("-started_at", "-id")
        total = query.count()
        for fraction in (0.0, 0.5, 0.99):
            depth = int(total * fraction) // page_size * page_size
            if depth:
                anchor = query.values_list("started_at", "id")[depth - 1]
                cursor = keyset_cursor(*anchor, salt=f"{CURSOR_SALT}:started_at")
            else:
                cursor = ""

            def keyset(cursor=cursor, filters=filters):
                page = execution_list(filters=filters, after=cursor, limit=page_size)
                assert len(page.rows) == page_size or not page.next_cursor

            def offset(depth=depth, query=query):
                rows = list(query.select_related("function")[depth : depth + page_size])
                assert rows

            status_q = "&status=FAILED" if label != "all" else ""
            url = f"/executions/?after={cursor}{status_q}" if cursor else f"/executions/?{status_q}"

            def page_render(url=url):
                assert client.get(url).status_code == 200

            k, o, r = _measure(keyset), _measure(offset), _measure(page_render, repeat=3)
            results["depths"].append(
                {
                    "filter": label,
                    "rows_matching": total,
                    "depth": depth,
                    "keyset_ms": round(k * 1000, 2),
                    "offset_ms": round(o * 1000, 2),
                    "offset_over_keyset": round(o / k, 1) if k else None,
                    "page_render_ms": round(r * 1000, 1),
                }
            )
    for path in ("/", "/executions/attention/", "/executions/failures/?since=all", "/executions/timeouts/"):
        results.setdefault("pages", {})[path] = round(_measure(lambda path=path: client.get(path), repeat=3) * 1000, 1)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        print(json.dumps(_child(args.executions)))
        return
    result = child_run(["-m", "benchmarks.execution_list", "--child", "--executions", str(args.executions)])
    print(f"{result['executions']:,} executions, pages of {result['page_size']}")
    print(
        f"{'filter':<14} {'matching':>9} {'depth':>7} {'keyset ms':>10} {'offset ms':>10} {'offset/keyset':>14} "
        f"{'page ms':>8}"
    )
    for row in result["depths"]:
        print(
            f"{row['filter']:<14} {row['rows_matching']:>9,} {row['depth']:>7,} {row['keyset_ms']:>10} "
            f"{row['offset_ms']:>10} {row['offset_over_keyset']:>13}x {row['page_render_ms']:>8}"
        )
    for path, ms in result.get("pages", {}).items():
        print(f"page {path:<34} {ms:>8} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
