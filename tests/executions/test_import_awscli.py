"""import_history reads what the real AWS CLI prints.

`aws lambda get-durable-execution-history --output json` (awscli v1 from PyPI, in `.venv-awscli`, which
`make test` creates) runs against the local gateway, which speaks AWS's semantics; the file it writes is
imported and must give the same rows as the live sync of the same execution.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from core.time import timestamp_parse
from executions.models import Execution
from executions.sync import functions_sync
from tests.executions.sync_support import workflow_run
from tests.executions.test_import_history import snapshot


def comparable(value):
    """A snapshot with every `*Timestamp` as a datetime: the stored raw events keep the file's own spelling
    (epoch seconds or ISO 8601 text), every derived row must be the same."""
    if isinstance(value, dict):
        return {
            key: timestamp_parse(item) if key.endswith("Timestamp") else comparable(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


AWS_CLI = Path(__file__).resolve().parents[2] / ".venv-awscli" / "bin" / "aws"


def aws_cli(local_stack, *args: str, config_file: str = "/dev/null") -> str:
    assert AWS_CLI.exists(), f"{AWS_CLI} is missing: `make setup` (or `make test`) creates it"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": config_file,
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    done = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", local_stack.gateway_url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize(("timestamp_format", "printed_type"), [("none", float), ("iso8601", str)])
def test_import_of_what_the_aws_cli_prints_equals_the_live_sync(
    aws, local_stack, lambda_client, settings, tmp_path, timestamp_format, printed_type
):
    """The CLI prints timestamps as the wire sends them (epoch seconds) or, with `cli_timestamp_format =
    iso8601` in its config, as ISO 8601 text: both import the same."""
    settings.DURABLE_API_MAX_RPS = 500
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\ncli_timestamp_format = {timestamp_format}\n")
    arn = workflow_run(lambda_client, "SyncConcurrency", {})
    functions_sync(function_name="SyncConcurrency")
    live = Execution.objects.get(arn=arn)

    printed = aws_cli(
        local_stack,
        "lambda",
        "get-durable-execution-history",
        "--durable-execution-arn",
        arn,
        "--include-execution-data",
        "--output",
        "json",
        config_file=str(config),
    )
    document = json.loads(printed)
    assert document["Events"], "the CLI printed no events"
    assert isinstance(document["Events"][0]["EventTimestamp"], printed_type)
    saved = tmp_path / "cli-history.json"
    saved.write_text(printed)

    out = io.StringIO()
    call_command("import_history", str(saved), "--function", "SyncConcurrency", stdout=out)
    imported = Execution.objects.get(pk=int(out.getvalue().strip()))
    assert imported.imported and imported.pk != live.pk
    assert comparable(snapshot(imported)) == comparable(snapshot(live))


@pytest.mark.django_db
def test_the_aws_cli_lists_newest_first_through_the_gateway(aws, local_stack, lambda_client):
    first = workflow_run(lambda_client, "SyncQuick", {})
    second = workflow_run(lambda_client, "SyncQuick", {})
    listed = json.loads(
        aws_cli(local_stack, "lambda", "list-durable-executions-by-function", "--function-name", "SyncQuick")
    )["DurableExecutions"]
    arns = [item["DurableExecutionArn"] for item in listed]
    assert arns.index(second) < arns.index(first)
    assert all(arn.startswith("arn:aws:lambda:") and "/durable-execution/" in arn for arn in arns)
