import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.iam import iam_policy_render


class Command(BaseCommand):
    help = (
        "Print the least-privilege IAM policy for this deployment (DURABLE_FUNCTIONS, ORDERS_TABLE, AWS_REGION), "
        "ready for `aws iam create-policy --policy-document file://...`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account-id", required=True, help="The 12-digit AWS account id.")
        parser.add_argument("--region", default=None, help="Default: AWS_REGION.")

    def handle(self, *args, account_id, region, **options):
        try:
            policy = iam_policy_render(
                account_id=account_id,
                region=region or settings.AWS_REGION,
                functions=list(settings.DURABLE_FUNCTIONS),
                orders_table=settings.ORDERS_TABLE,
            )
        except ValueError as error:
            raise CommandError(str(error))
        self.stdout.write(json.dumps(policy, indent=2))
