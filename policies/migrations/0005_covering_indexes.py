# My team's overdue acknowledgements, and whose: the due-date index also holds the person,
# so the flags are read from the index alone.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_assignment_heatmap_idx"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="assignment",
            name="assignment_due_idx",
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["status", "due_date"], include=("person",), name="assignment_due_idx"
            ),
        ),
    ]
