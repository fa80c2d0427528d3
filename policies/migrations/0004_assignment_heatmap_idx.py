# The compliance dashboard's heatmap counts assignments per version, status and person
# (and whether acknowledged with a time): a covering index, read without the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0003_translations"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["version", "status", "person"],
                include=["completed_at"],
                name="assignment_heatmap_idx",
            ),
        ),
    ]
