import django.db.models.deletion
from django.db import migrations, models


def create_default(apps, schema_editor):
    """Every library starts with one default profile: the best there is."""
    Profile = apps.get_model("videos", "Profile")
    if not Profile.objects.filter(is_default=True).exists():
        Profile.objects.get_or_create(
            name="Best",
            defaults={"max_height": None, "container": "any", "is_default": True},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Profile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("max_height", models.PositiveIntegerField(blank=True, help_text="Largest video height in lines; empty for the best.", null=True)),
                ("container", models.CharField(choices=[("any", "Any"), ("mp4", "Mp4"), ("mkv", "Mkv"), ("webm", "Webm")], default="any", max_length=4)),
                ("audio_only", models.BooleanField(default=False)),
                ("video_codec", models.CharField(choices=[("copy", "Copy"), ("h264", "H264")], default="copy", max_length=4)),
                ("is_default", models.BooleanField(default=False)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("is_default", True)), fields=("is_default",), name="one_default_profile"),
                    models.CheckConstraint(condition=models.Q(("max_height__isnull", True), models.Q(("max_height__gte", 1), ("max_height__lte", 8640)), _connector="OR"), name="profile_max_height_in_range"),
                ],
            },
        ),
        migrations.AddField(
            model_name="video",
            name="profile",
            field=models.ForeignKey(blank=True, help_text="Empty: the default profile when the video is downloaded.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="videos", to="videos.profile"),
        ),
        migrations.RunPython(create_default, migrations.RunPython.noop),
    ]
