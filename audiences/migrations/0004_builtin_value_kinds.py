from django.db import migrations

KINDS = {"email": "email", "phone": "phone"}


def set_kinds(apps, schema_editor):
    IdentityNamespace = apps.get_model("audiences", "IdentityNamespace")
    for code, kind in KINDS.items():
        IdentityNamespace.objects.filter(code=code).update(value_kind=kind)


class Migration(migrations.Migration):
    dependencies = [("audiences", "0003_profiles_and_audiences")]
    operations = [migrations.RunPython(set_kinds, migrations.RunPython.noop)]
