# The statistics (workflow/statistics.py) read the cases of a period of receipt and the tasks of those cases with
# index-only scans: case_opened_stats covers every case column they read (and the id they join on), task_case_state
# now includes the department and the decision. task_created_stats served bench/stats.py's count of tasks by creation
# time, which no statistic uses any more.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0010_case_composition_required"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="case_opened_stats",
        ),
        migrations.RemoveIndex(
            model_name="humantask",
            name="task_case_state",
        ),
        migrations.RemoveIndex(
            model_name="humantask",
            name="task_created_stats",
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["opened_at"],
                include=(
                    "id",
                    "one_thing",
                    "status",
                    "accepted_at",
                    "decided_at",
                    "concluded_at",
                    "promised_due_date",
                    "accepting_hall",
                    "deciding_hall",
                ),
                name="case_opened_stats",
            ),
        ),
        migrations.AddIndex(
            model_name="humantask",
            index=models.Index(fields=["case", "state"], include=("department", "decision"), name="task_case_state"),
        ),
    ]
