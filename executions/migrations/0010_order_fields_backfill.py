"""Order-approval executions synced before 0009 get their order id, customer and outcome once.

Terminal executions are never derived again, so the sync alone would leave them empty. This reads the same
facts the sync reads (the create_order step's StepSucceeded event, the stored result and error type) with the
same pure functions (executions.order_fields), a chunk of executions at a time. Reversing it is a no-op.
"""

from django.conf import settings
from django.db import migrations

CHUNK = 500


def order_fields_backfill(apps, schema_editor):
    from executions.order_fields import CREATE_ORDER_STEP, order_outcome_of, order_ref_from_step_details
    from executions.statuses import TERMINAL_STATUSES

    Execution = apps.get_model("executions", "Execution")
    HistoryEvent = apps.get_model("executions", "HistoryEvent")
    executions = Execution.objects.filter(function_name=settings.ORDER_APPROVAL_FUNCTION, order_id="").only(
        "id", "status", "result", "error_type"
    )
    last_pk = 0
    while True:
        chunk = list(executions.filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        details = dict(
            HistoryEvent.objects.filter(
                execution_id__in=[e.pk for e in chunk], event_type="StepSucceeded", name=CREATE_ORDER_STEP
            ).values_list("execution_id", "details")
        )
        for execution in chunk:
            ref = order_ref_from_step_details(details.get(execution.pk))
            execution.order_id = ref.order_id if ref else ""
            execution.customer_name = ref.customer_name if ref else ""
            execution.order_outcome = order_outcome_of(
                result=execution.result, error_type=execution.error_type, terminal=execution.status in TERMINAL_STATUSES
            )
        Execution.objects.bulk_update(chunk, ["order_id", "customer_name", "order_outcome"])


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0009_order_fields"),
    ]

    operations = [
        migrations.RunPython(order_fields_backfill, migrations.RunPython.noop, elidable=True),
    ]
