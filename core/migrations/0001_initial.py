# Access labels and API keys move from ``campaigns`` to ``core`` without touching
# the database: their tables keep their names (Meta.db_table and the many-to-many
# db_table), so this migration only changes Django's state. campaigns 0003 removes
# them from the campaigns app's state and points its references here.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("campaigns", "0002_campaign_audience"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AccessLabel",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=64, unique=True, validators=[django.core.validators.RegexValidator("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", "Use letters, digits and _ . : - (at most 64 characters).")], verbose_name="name")),
                        ("description", models.TextField(blank=True, verbose_name="description")),
                        ("groups", models.ManyToManyField(blank=True, db_table="campaigns_accesslabel_groups", related_name="access_labels", to="auth.group", verbose_name="groups holding this label")),
                    ],
                    options={
                        "verbose_name": "access label",
                        "verbose_name_plural": "access labels",
                        "db_table": "campaigns_accesslabel",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        ("prefix", models.CharField(editable=False, max_length=16, unique=True, verbose_name="prefix")),
                        ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("scopes", models.JSONField(blank=True, default=list, verbose_name="scopes")),
                        ("is_active", models.BooleanField(default=True, verbose_name="active")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                        ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last used")),
                        ("access_labels", models.ManyToManyField(blank=True, db_table="campaigns_apikey_access_labels", related_name="api_keys", to="core.accesslabel", verbose_name="access labels")),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "API key",
                        "verbose_name_plural": "API keys",
                        "db_table": "campaigns_apikey",
                        "ordering": ["name"],
                    },
                ),
            ],
        ),
    ]
