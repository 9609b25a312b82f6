from __future__ import annotations

from django import forms

from sources.models import MAX_EVERY, MIN_EVERY, Source
from videos.models import Artist, clean_text
from videos.validation import MAX_URL_LENGTH, BadUrl, check_url

FIELDS = [
    "name",
    "artist",
    "profile",
    "check_every",
    "title_include",
    "title_exclude",
    "max_duration",
    "published_after",
    "auto_download",
]


class SourceForm(forms.ModelForm):
    """Adding (with ``url``) or changing a source; the artists offered are the owner's."""

    check_every = forms.IntegerField(
        min_value=MIN_EVERY,
        max_value=MAX_EVERY,
        initial=360,
        label="Check every (minutes)",
    )

    class Meta:
        model = Source
        fields = [*FIELDS, "enabled"]
        labels = {
            "title_include": "Only titles matching",
            "title_exclude": "Never titles matching",
            "max_duration": "Longest (seconds)",
            "published_after": "Published after",
            "auto_download": "Download new videos",
            "enabled": "Checked on schedule",
        }
        widgets = {"published_after": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, owner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.owner = owner
        self.fields["artist"].queryset = Artist.objects.filter(owner=owner).by_sort_name()
        self.fields["name"].widget.attrs["placeholder"] = "From the feed's or playlist's title"

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data.get("name") or "")


class AddSourceForm(SourceForm):
    url = forms.CharField(
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://… (playlist, channel or feed)"}),
        label="URL",
    )

    field_order = ["url", *FIELDS]

    class Meta(SourceForm.Meta):
        fields = FIELDS  # the URL is checked here (a model URLField would not)

    def clean_url(self) -> str:
        try:
            url = check_url(self.cleaned_data["url"])
        except BadUrl as e:
            raise forms.ValidationError(str(e)) from None
        self.existing = Source.objects.filter(owner=self.instance.owner, url=url).first()
        if self.existing:
            raise forms.ValidationError("You already follow this URL.")
        self.instance.url = url
        return url
