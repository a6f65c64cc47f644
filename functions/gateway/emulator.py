"""The durable-execution emulator, as the gateway talks to it (raw HTTP, its own ids)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlencode, urlsplit

from functions.gateway.errors import GatewayError, emulator_error

API = "/2025-12-01"
PAGE = 1000
MAX_PAGES = 1000  # a bound on one fetch-all (1,000,000 items)


class Emulator:
    def __init__(self, url: str, timeout: float = 960):
        self.url = urlsplit(url)
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, payload); OSError when the emulator cannot be reached."""
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def call(self, method: str, path: str, query: dict | None = None, body: dict | None = None) -> dict:
        """A JSON call; emulator errors become Lambda-shaped GatewayErrors."""
        if query:
            path = f"{path}?{urlencode(query, doseq=True)}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            status, _, payload = self.request(method, path, data, {"Content-Type": "application/json"})
        except OSError as exc:
            raise GatewayError("ServiceException", f"durable-execution emulator unreachable: {exc}", 503) from exc
        if status >= 300:
            raise emulator_error(status, payload)
        return json.loads(payload) if payload.strip() else {}

    @staticmethod
    def execution_path(emulator_arn: str, suffix: str = "") -> str:
        return f"{API}/durable-executions/{quote(emulator_arn, safe='')}{suffix}"

    def describe(self, emulator_arn: str) -> dict:
        return self.call("GET", self.execution_path(emulator_arn))

    def describe_or_none(self, emulator_arn: str) -> dict | None:
        try:
            return self.describe(emulator_arn)
        except GatewayError:
            return None

    def executions_all(self, function: str) -> list[dict]:
        """Every execution of `function`, in the emulator's order (its default: oldest first)."""
        items: list[dict] = []
        marker = None
        for _ in range(MAX_PAGES):
            query = {"MaxItems": PAGE, **({"Marker": marker} if marker else {})}
            page = self.call("GET", f"{API}/functions/{quote(function, safe='')}/durable-executions", query)
            items.extend(page.get("DurableExecutions") or [])
            marker = page.get("NextMarker")
            if not marker:
                break
        return items

    def history_all(self, emulator_arn: str, include_data: bool) -> list[dict]:
        """The execution's whole history, oldest first."""
        events: list[dict] = []
        marker = None
        for _ in range(MAX_PAGES):
            query = {"MaxItems": PAGE, "IncludeExecutionData": "true" if include_data else "false"}
            if marker:
                query["Marker"] = marker
            page = self.call("GET", self.execution_path(emulator_arn, "/history"), query)
            events.extend(page.get("Events") or [])
            marker = page.get("NextMarker")
            if not marker:
                break
        return events
