"""Finding videos in a large library: search, filters and sort, one set of
rules for the Library page, an artist's page and ``GET /api/videos``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower

from videos.models import MAX_ID, Video, name_key

# ?sort= → (label, its order, the reverse order). Ties end on the id, so a
# page boundary never moves; empty values go last either way.
SORTS: dict[str, tuple[str, tuple, tuple]] = {
    "added": ("Added", ("-created_at", "-pk"), ("created_at", "pk")),
    "title": ("Title", (Lower("title"), "pk"), (Lower("title").desc(), "-pk")),
    "artist": (
        "Artist",
        (F("artist__sort_name").asc(nulls_last=True), Lower("title"), "pk"),
        (F("artist__sort_name").desc(nulls_last=True), Lower("title").desc(), "-pk"),
    ),
    "year": (
        "Year",
        (F("year").desc(nulls_last=True), "-pk"),
        (F("year").asc(nulls_last=True), "pk"),
    ),
    "duration": (
        "Duration",
        (F("duration").desc(nulls_last=True), "-pk"),
        (F("duration").asc(nulls_last=True), "pk"),
    ),
    "size": (
        "Size",
        (F("file_size").desc(nulls_last=True), "-pk"),
        (F("file_size").asc(nulls_last=True), "pk"),
    ),
}


def browse(
    videos: QuerySet[Video],
    *,
    q: str = "",
    status: str = "",
    artist: str = "",
    artist_id: int | None = None,
    year: int | None = None,
    has_file: bool | None = None,
    sort: str = "added",
    reverse: bool = False,
) -> QuerySet[Video]:
    """``videos`` searched (title or artist name), filtered and sorted."""
    if q:
        videos = videos.filter(Q(title__icontains=q) | Q(artist__name__icontains=q))
    if status:
        videos = videos.filter(status=status)
    if artist:
        videos = videos.filter(artist__key=name_key(artist))
    if artist_id:
        videos = videos.filter(artist_id=artist_id)
    if year:
        videos = videos.filter(year=year)
    if has_file is not None:
        videos = videos.exclude(file="") if has_file else videos.filter(file="")
    _, order, backwards = SORTS.get(sort, SORTS["added"])
    return videos.select_related("artist").order_by(*(backwards if reverse else order))


class BrowseForm(forms.Form):
    """The Library's query string; a value that does not fit is ignored."""

    q = forms.CharField(max_length=200, required=False, strip=True)
    status = forms.ChoiceField(choices=[("", "Any status"), *Video.Status.choices], required=False)
    artist = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    year = forms.IntegerField(min_value=1800, max_value=2200, required=False)
    file = forms.ChoiceField(
        choices=[("", "With or without a file"), ("yes", "With a file"), ("no", "Without a file")],
        required=False,
    )
    sort = forms.ChoiceField(choices=[(k, v[0]) for k, v in SORTS.items()], required=False)
    order = forms.ChoiceField(
        choices=[("", "Default order"), ("reverse", "Reversed")], required=False
    )
    view = forms.ChoiceField(choices=[("list", "List"), ("grid", "Grid")], required=False)

    def values(self) -> dict[str, Any]:
        """The valid fields, as ``browse()`` takes them, plus ``view``."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
        file = data.pop("file", "")
        return {
            "q": data.get("q", ""),
            "status": data.get("status", ""),
            "artist_id": data.get("artist"),
            "year": data.get("year"),
            "has_file": {"yes": True, "no": False}.get(file),
            "sort": data.get("sort", "added"),
            "reverse": data.get("order") == "reverse",
        }

    @property
    def layout(self) -> str:
        """``list`` or ``grid``."""
        self.is_valid()
        return self.cleaned_data.get("view") or "list"
