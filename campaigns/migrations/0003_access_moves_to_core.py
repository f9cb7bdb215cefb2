# Access labels and API keys now belong to ``core`` (core 0001 took them over,
# tables unchanged): drop them from this app's state and point the campaign's
# labels and the audit log's key at core's models. No database change.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0002_campaign_audience"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="campaign",
                    name="access_labels",
                    field=models.ManyToManyField(blank=True, help_text="Only people and API keys holding all of these labels can see or use the campaign.", related_name="campaigns", to="core.accesslabel", verbose_name="access labels"),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="api_key",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="core.apikey", verbose_name="API key"),
                ),
                migrations.DeleteModel(name="ApiKey"),
                migrations.DeleteModel(name="AccessLabel"),
            ],
        ),
    ]
