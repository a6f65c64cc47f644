"""The lister under AWS's ordering (newest first), on the AWS-semantics double: thousands of executions over
several pages, new ones seen by the next cycle, and one list page per cycle in a steady state."""

from __future__ import annotations

import pytest

from core.aws import aws_clients_reset
from executions.governor import governor_reset
from executions.models import Execution, MonitoredFunction
from executions.sync import function_list_sync, monitored_functions_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_double(aws_double, settings):
    settings.LAMBDA_ENDPOINT_URL = aws_double.url
    settings.AWS_LOCAL_CREDENTIALS = True
    settings.SYNC_LIST_PAGE_SIZE = 1000
    settings.SYNC_LIST_OVERLAP_SECONDS = 300
    aws_clients_reset()
    governor_reset()
    yield aws_double
    aws_clients_reset()


def list_cycle(double, function: MonitoredFunction) -> int:
    """One listing of `function`; the number of list calls the double received."""
    before = double.calls.count("ListDurableExecutionsByFunction")
    function_list_sync(function=MonitoredFunction.objects.get(pk=function.pk))
    return double.calls.count("ListDurableExecutionsByFunction") - before


def test_2500_executions_then_5_new_ones_then_a_steady_state_of_one_page(on_double):
    seeded = set(on_double.seed("Busy", 2500))
    (function,) = monitored_functions_seed(names=["Busy"])

    assert list_cycle(on_double, function) == 3  # 1000 + 1000 + 500, newest first
    assert set(Execution.objects.filter(function=function).values_list("arn", flat=True)) == seeded

    later = {on_double.add("Busy", f"later-{index}", status="RUNNING") for index in range(5)}
    assert list_cycle(on_double, function) == 1
    stored = set(Execution.objects.filter(function=function).values_list("arn", flat=True))
    assert later <= stored and len(stored) == 2505

    for _ in range(3):
        assert list_cycle(on_double, function) == 1
    assert Execution.objects.filter(function=function).count() == 2505


def test_a_burst_larger_than_a_page_between_cycles_is_listed_whole(on_double, settings):
    settings.SYNC_LIST_PAGE_SIZE = 100
    on_double.seed("Burst", 50)
    (function,) = monitored_functions_seed(names=["Burst"])
    list_cycle(on_double, function)
    burst = set(on_double.seed("Burst", 250, spacing=0.01))
    assert list_cycle(on_double, function) >= 3
    assert burst <= set(Execution.objects.filter(function=function).values_list("arn", flat=True))
