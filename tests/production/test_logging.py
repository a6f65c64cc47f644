"""JSON log lines carry the request id (or the Celery task id) and any `extra=` fields."""

from __future__ import annotations

import json
import logging

import pytest
from celery import shared_task

from core.logging import JsonFormatter, RequestIdFilter

logger = logging.getLogger("tests.production.logging")


@pytest.fixture
def json_lines():
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    handler = Capture()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)


@shared_task(name="tests.production.log_something")
def log_something():
    logger.info("inside a task", extra={"execution_id": 42})


def test_request_lines_carry_the_request_id_and_extra_fields(json_lines, rf):
    from core.middleware import RequestIdMiddleware

    def view(request):
        logger.info("handling", extra={"order_id": "o-1"})
        from django.http import HttpResponse

        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="abc-123"))
    assert response["X-Request-ID"] == "abc-123"
    (line,) = json_lines
    assert line["request_id"] == "abc-123" and line["order_id"] == "o-1"
    assert line["level"] == "INFO" and line["logger"] == "tests.production.logging" and line["message"] == "handling"


def test_an_unsafe_incoming_request_id_is_replaced(json_lines, rf):
    from django.http import HttpResponse

    from core.middleware import RequestIdMiddleware

    response = RequestIdMiddleware(lambda request: HttpResponse())(rf.get("/", HTTP_X_REQUEST_ID="bad id\n{"))
    assert response["X-Request-ID"] != "bad id\n{" and len(response["X-Request-ID"]) == 32


def test_task_lines_carry_the_task_id(json_lines):
    result = log_something.apply(task_id="t-789")
    assert result.successful()
    (line,) = json_lines
    assert line["request_id"] == "task:t-789" and line["execution_id"] == 42


def test_exceptions_are_one_json_line(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = json_lines
    assert "ValueError: boom" in line["exc_info"] and line["request_id"] == "-"
