from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The database cache (used when REDIS_URL is unset) holds locks and the
    # API rate governor's counters; with Redis this creates nothing.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_roles")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
