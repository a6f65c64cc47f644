"""Log formatting: JSON lines in production, with the request id on every line.

Inside a Celery task there is no request: the line carries the task id instead
(`task:<id>`), so one task's lines can be found together too.
"""

import json
import logging
from datetime import UTC, datetime

from celery import current_task

from core.request_context import current_request_id

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


def _current_task_id() -> str | None:
    request = getattr(current_task, "request", None) if current_task else None
    task_id = getattr(request, "id", None)
    return f"task:{task_id}" if task_id else None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or _current_task_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            payload.update(_access_fields(record.args))
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def _access_fields(atoms: dict) -> dict:
    """gunicorn passes its access-log atoms as the record's args: log them as fields."""
    request_id = atoms.get("{x-request-id}o") or atoms.get("{x-request-id}i") or "-"
    fields = {
        "remote_addr": atoms.get("h"),
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "query": atoms.get("q") or "",
        "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
        "bytes": atoms.get("B"),
        "duration_ms": round(int(atoms.get("D", 0)) / 1000, 1),
        "user_agent": atoms.get("a"),
    }
    if request_id != "-":
        fields["request_id"] = request_id
    return fields
