"""PostgreSQL: messages, attempts and events partitioned by week (delivery.retention).

A no-op on SQLite. The lead chains it after the other 0004-0006 migrations of issue 8;
it reads the tables from the catalog, so the columns and indexes they add come along.
"""

from django.db import migrations

from delivery.retention.conversion import tables_partition, tables_unpartition

# The migration makes the current week's partitions and this many after it; the
# maintenance task (delivery.retention.maintenance) keeps as many ahead from then on.
WEEKS_AHEAD = 4


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        tables_partition(schema_editor.connection, weeks_ahead=WEEKS_AHEAD)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        tables_unpartition(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0005_webhooks"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
