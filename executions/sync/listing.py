"""A monitored function's executions, newest first down to its watermark (minus an overlap), upserted.

AWS lists newest first. The first listing reads every page; later ones ask the server only for executions
started after the watermark minus `SYNC_LIST_OVERLAP_SECONDS` (`StartedAfter`) and read all of those pages,
so a cycle reads one page in a steady state, and misses nothing however many pages the function has.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.time import timestamp_parse
from executions import durable_api
from executions.models import Execution, MonitoredFunction
from executions.scheduler import FINISHING, NEW
from executions.statuses import TERMINAL_STATUSES, ExecutionStatus

FULL_LIST_PAGE_SIZE = 1000


def function_list_sync(*, function: MonitoredFunction) -> int:
    """List the function's executions newest first, down to the watermark minus the overlap; return the count."""
    cutoff = (
        function.list_watermark - timedelta(seconds=settings.SYNC_LIST_OVERLAP_SECONDS)
        if function.list_watermark
        else None
    )
    page_size = settings.SYNC_LIST_PAGE_SIZE if cutoff else FULL_LIST_PAGE_SIZE
    newest, count = function.list_watermark, 0
    for page in durable_api.executions_list_pages(
        function_name=function.name, qualifier=function.qualifier, page_size=page_size, started_after=cutoff
    ):
        executions_upsert(function=function, summaries=page)
        count += len(page)
        starts = [timestamp_parse(summary.start) for summary in page if summary.start]
        if starts:
            newest = max([newest, *starts]) if newest else max(starts)
        if cutoff and starts and min(starts) <= cutoff:
            break  # the server filters already; this only guards against one that does not
    if newest != function.list_watermark:
        MonitoredFunction.objects.filter(pk=function.pk).update(list_watermark=newest)
        function.list_watermark = newest
    return count


def executions_upsert(*, function: MonitoredFunction, summaries: list) -> None:
    """Create unseen executions (due at once) and take status changes from the list (never a downgrade)."""
    if not summaries:
        return
    now = timezone.now()
    known = {
        execution.arn: execution
        for execution in Execution.objects.filter(arn__in=[s.arn for s in summaries]).only(
            "id", "arn", "status", "history_complete", "ended_at", "imported"
        )
    }
    new = []
    for summary in summaries:
        execution = known.get(summary.arn)
        if execution is None:
            new.append(
                Execution(
                    arn=summary.arn,
                    name=(summary.name or "")[:256],
                    function=function,
                    function_name=function.name,
                    function_arn=summary.function_arn or "",
                    status=(summary.status or ExecutionStatus.RUNNING)[:32],
                    started_at=timestamp_parse(summary.start),
                    ended_at=timestamp_parse(summary.end),
                    next_poll_at=now,
                    poll_priority=NEW,
                    poll_reason="new",
                )
            )
            continue
        if execution.imported or execution.status in TERMINAL_STATUSES or not summary.status:
            continue
        if summary.status != execution.status:
            changes = {"status": summary.status[:32]}
            if summary.status in TERMINAL_STATUSES:
                changes.update(
                    ended_at=timestamp_parse(summary.end) or execution.ended_at,
                    next_poll_at=now,
                    poll_priority=FINISHING,
                    poll_reason="finishing",
                )
            Execution.objects.filter(pk=execution.pk).update(**changes)
    if new:
        Execution.objects.bulk_create(new, ignore_conflicts=True)
