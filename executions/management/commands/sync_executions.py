import json

from django.core.management.base import BaseCommand

from executions.sync import functions_sync


class Command(BaseCommand):
    help = "Run one full execution-sync cycle in the foreground and print its counters as one JSON line."

    def add_arguments(self, parser):
        parser.add_argument("--function", dest="function_name", help="Only this function (NAME or NAME:QUALIFIER).")

    def handle(self, *args, function_name=None, **options):
        stats = functions_sync(function_name=function_name)
        self.stdout.write(json.dumps(stats))
