"""The two roles as groups: Members (every account so far) and Viewers.
Their permissions are given after every migrate (``mvidarr.roles.sync_groups``),
once the models' permissions exist."""

from django.conf import settings
from django.db import migrations

# Frozen copies of mvidarr.roles.MEMBERS and VIEWERS.
MEMBERS, VIEWERS = "Members", "Viewers"


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    members, _ = Group.objects.get_or_create(name=MEMBERS)
    Group.objects.get_or_create(name=VIEWERS)
    members.user_set.add(*User.objects.all())


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[MEMBERS, VIEWERS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mvidarr", "0005_viewers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
