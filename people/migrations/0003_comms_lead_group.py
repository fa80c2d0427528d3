from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="Comms lead")


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Comms lead").delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0002_role_groups")]

    operations = [migrations.RunPython(create_group, remove_group)]
