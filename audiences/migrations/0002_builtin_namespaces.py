from django.db import migrations

BUILTIN = {
    "email": "Email",
    "phone": "Phone",
    "crm_id": "CRM ID",
    "ecid": "Experience Cloud ID",
}


def create_builtin(apps, schema_editor):
    IdentityNamespace = apps.get_model("audiences", "IdentityNamespace")
    for code, name in BUILTIN.items():
        IdentityNamespace.objects.update_or_create(code=code, defaults={"name": name, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("audiences", "0001_initial")]
    operations = [migrations.RunPython(create_builtin, migrations.RunPython.noop)]
