"""Start N order-approval executions with varied, realistic orders (through the Lambda API)."""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from executions.services import DurableApiError, execution_start

CUSTOMERS = [
    "Northwind Traders",
    "Contoso Pharmaceuticals",
    "Fabrikam Robotics",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works Cycles",
    "Litware Labs",
    "Proseware Analytics",
    "Woodgrove Bank",
    "Alpine Ski House",
]
REQUESTERS = [
    "maria.garcia@example.com",
    "ken.tanaka@example.com",
    "priya.natarajan@example.com",
    "li.wei@example.com",
    "olivia.brown@example.com",
    "ahmed.hassan@example.com",
]
CATALOG = [
    ("LAP-14", "14-inch developer laptop", 1849.00),
    ("MON-27", "27-inch 4K monitor", 429.00),
    ("DOCK-TB4", "Thunderbolt 4 dock", 289.00),
    ("KB-ERGO", "Ergonomic keyboard", 129.00),
    ("SRV-R2", "Rack server, 2U", 7450.00),
    ("LIC-IDE", "IDE licence, annual", 249.00),
    ("CHR-TASK", "Task chair", 389.00),
    ("HDS-NC", "Noise-cancelling headset", 219.00),
    ("SSD-4T", "4 TB NVMe SSD", 319.00),
    ("CLD-CR", "Cloud credits, 1,000 USD", 1000.00),
]
# Approval windows in seconds: a mix, so the inbox shows every deadline state.
WINDOWS = [3600, 4 * 3600, 8 * 3600, 24 * 3600, 24 * 3600, 48 * 3600]


def order_random(rng: random.Random, timeout: int | None) -> dict:
    lines = []
    for sku, description, price in rng.sample(CATALOG, rng.randint(1, 4)):
        quantity = rng.choice([1, 1, 2, 3, 5, 10])
        lines.append({"sku": sku, "description": description, "quantity": quantity, "unitPrice": price})
    amount = round(sum(line["quantity"] * line["unitPrice"] for line in lines), 2)
    return {
        "customerName": rng.choice(CUSTOMERS),
        "amount": amount,
        "items": lines,
        "requestedBy": rng.choice(REQUESTERS),
        "approvalTimeoutSeconds": timeout or rng.choice(WINDOWS),
    }


class Command(BaseCommand):
    help = "Start N order-approval executions with varied, realistic orders and print their ARNs."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=5)
        parser.add_argument("--function", default=None, help="function name (default ORDER_APPROVAL_FUNCTION)")
        parser.add_argument("--timeout", type=int, default=None, help="approval window in seconds for every order")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable orders")

    def handle(self, *args, count, function, timeout, seed, **options):
        if count < 1 or count > 10_000:
            raise CommandError("--count must be between 1 and 10000")
        rng = random.Random(seed)
        function_name = function or settings.ORDER_APPROVAL_FUNCTION
        for _ in range(count):
            try:
                arn = execution_start(function_name=function_name, payload=order_random(rng, timeout))
            except DurableApiError as error:
                raise CommandError(f"could not start an execution of {function_name}: {error}") from error
            self.stdout.write(arn)
