"""Artists: one per distinct (owner, artist name) among the videos, and each
video attached to its artist; a video with no artist name gets none (its
files stay under "Unknown Artist")."""

import re
import unicodedata

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery

# The naming rules as they were when artists came in, frozen here as a
# migration must be: the live ones in videos.models.text may change later.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
MAX_NAME = 200


def tidy_name(name):
    return " ".join(CONTROL.sub(" ", name or "").split())[:MAX_NAME]


def name_key(name):
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def sort_name(name):
    article, _, rest = name.partition(" ")
    if rest and article.casefold() in ("the", "a", "an"):
        return f"{rest}, {article}"
    return name


def move_videos_onto_artists(apps, schema_editor):
    """Names that differ only in case or spacing ("ABBA", "Abba") are one
    artist, named as most of its videos spell it."""
    Video = apps.get_model("videos", "Video")
    Artist = apps.get_model("videos", "Artist")
    spellings = (
        Video.objects.exclude(artist_name="")
        .values_list("owner_id", "artist_name")
        .annotate(n=Count("id"))
        .order_by("owner_id", "-n", "artist_name")
    )
    artists, names = {}, []
    for owner_id, raw, _ in spellings.iterator():
        name = tidy_name(raw)
        if not name:
            continue
        key = (owner_id, name_key(name))
        if key not in artists:
            artists[key] = Artist(owner_id=owner_id, name=name, sort_name=sort_name(name), key=key[1])
        names.append((owner_id, raw, key))
    Artist.objects.bulk_create(artists.values(), batch_size=500)
    for owner_id, raw, key in names:
        Video.objects.filter(owner_id=owner_id, artist_name=raw).update(artist=artists[key])


def move_videos_off_artists(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    Artist = apps.get_model("videos", "Artist")
    name = Artist.objects.filter(pk=OuterRef("artist_id")).values("name")[:1]
    Video.objects.filter(artist__isnull=False).update(artist_name=Subquery(name))


class Migration(migrations.Migration):

    dependencies = [
        ('videos', '0003_technical_metadata'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Artist',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('sort_name', models.CharField(blank=True, help_text='Empty: made from the name ("Beatles, The").', max_length=200)),
                ('key', models.CharField(editable=False, max_length=600)),
                ('monitored', models.BooleanField(default=False)),
                ('auto_download', models.BooleanField(default=False)),
                ('imvdb_id', models.PositiveBigIntegerField(blank=True, null=True, verbose_name='IMVDb id')),
                ('image', models.CharField(blank=True, help_text='An image URL, or a path inside the library.', max_length=2048)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='artists', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': [django.db.models.functions.text.Lower('sort_name'), 'pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='artist',
            constraint=models.UniqueConstraint(fields=('owner', 'key'), name='one_artist_name_per_owner'),
        ),
        migrations.RenameField(model_name='video', old_name='artist', new_name='artist_name'),
        migrations.AddField(
            model_name='video',
            name='artist',
            field=models.ForeignKey(blank=True, help_text='Empty: filed under “Unknown Artist”.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='videos', to='videos.artist'),
        ),
        migrations.RunPython(move_videos_onto_artists, move_videos_off_artists),
        migrations.RemoveField(model_name='video', name='artist_name'),
    ]
