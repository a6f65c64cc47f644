import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from executions.events import history_file_events
from executions.sync import history_import


class Command(BaseCommand):
    help = (
        "Import a saved execution history (the JSON printed by `aws lambda get-durable-execution-history`, "
        "or a bare list of events) and print the execution's id in the dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the JSON file ('-' reads standard input).")
        parser.add_argument(
            "--function", dest="function_name", default="imported", help="Function name to file it under."
        )
        parser.add_argument("--name", dest="name", default=None, help="Execution name to show.")

    def handle(self, *args, file, function_name, name, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            events = history_file_events(json.loads(text))
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        except ValueError as error:
            raise CommandError(f"{file} is not a saved history: {error}") from error
        try:
            execution = history_import(events=events, function_name=function_name, name=name)
        except (KeyError, ValueError, TypeError) as error:
            raise CommandError(f"{file} has malformed events: {error}") from error
        self.stdout.write(str(execution.pk))
