"""An e-licence keeps its issuing case's applicant (``ELicence.applicant_id_number``): 免提交, 秒批 and the
applicant's prefill find an applicant's licences by holder or by applicant on the licences alone, each with an index,
where the rule read the applicant through a join to the cases and so scanned every licence there is. Existing licences
take their case's applicant."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    ELicence, Case = apps.get_model("workflow", "ELicence"), apps.get_model("workflow", "Case")
    applicant = Case.objects.filter(pk=OuterRef("case_id")).values("applicant_id_number")[:1]
    ELicence.objects.using(schema_editor.connection.alias).update(applicant_id_number=Subquery(applicant))


class Migration(migrations.Migration):
    dependencies = [("workflow", "0024_process_state_lz4")]

    operations = [
        migrations.AddField(
            model_name="elicence",
            name="applicant_id_number",
            field=models.CharField(blank=True, max_length=32, verbose_name="申请人证件号码"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="elicence",
            index=models.Index(fields=["applicant_id_number"], name="licence_applicant"),
        ),
    ]
