# The admin's permissions for API keys and access labels hang off their content
# types. Moving the models to ``core`` would leave the old ``campaigns`` content
# types behind and create new ones with new permissions, silently taking the
# rights away from every group that had them. Renaming the content types keeps
# the permissions (and the admin log entries) attached.

from django.db import migrations

MOVED = ("apikey", "accesslabel")


def forwards(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = content_types.objects.filter(app_label="campaigns", model=model).first()
        if old is None:
            continue
        if content_types.objects.filter(app_label="core", model=model).exists():
            continue  # already there (a database migrated by hand); leave both alone
        old.app_label = "core"
        old.save(update_fields=["app_label"])


def backwards(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label="core", model__in=MOVED).exclude(
        model__in=content_types.objects.filter(app_label="campaigns").values("model")
    ).update(app_label="campaigns")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
