# The document sweep (beat: documents whose Celery message was lost, issue 18) reads the last two days' events by
# time. Written by hand; numbered after the 0014 as the lead asked.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0017_inbox_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["created_at"], name="caseevent_created"),
        ),
    ]
