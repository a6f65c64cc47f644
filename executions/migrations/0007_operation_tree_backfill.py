"""Executions synced before 0006 get their operation tree (parents, depths, group summaries) computed once.

The tree is what the sync stores when it derives an execution's events (executions.sync.tree); this runs the
same function for every execution that has operations. Reversing it is a no-op: 0006's fields go with 0006.
"""

from django.db import migrations


def tree_backfill(apps, schema_editor):
    from executions.models import Execution
    from executions.sync.tree import operation_tree_update

    Operation = apps.get_model("executions", "Operation")
    ids = sorted(set(Operation.objects.order_by().values_list("execution_id", flat=True).distinct()))
    for execution in Execution.objects.filter(pk__in=ids).only("id").order_by("pk"):
        operation_tree_update(execution)


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0006_operation_tree"),
    ]

    operations = [
        migrations.RunPython(tree_backfill, migrations.RunPython.noop, elidable=True),
    ]
