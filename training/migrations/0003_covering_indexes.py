# Who was present at a requirement's sessions: read session by session from an index
# that holds the person, not the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0002_setup_change"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(
                fields=["session", "status"], include=("person",), name="booking_attendance_idx"
            ),
        ),
    ]
