from __future__ import annotations

from django import forms

from videos.models import clean_text
from videos.validation import MAX_URL_LENGTH, BadUrl, check_url


class AddVideoForm(forms.Form):
    url = forms.CharField(
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://…", "autofocus": True}),
        label="Video URL",
    )
    artist = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=300, required=False)
    download = forms.BooleanField(required=False, initial=True, label="Download now")

    def clean_url(self) -> str:
        try:
            return check_url(self.cleaned_data["url"])
        except BadUrl as e:
            raise forms.ValidationError(str(e)) from None


class EditVideoForm(forms.Form):
    artist = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=300, required=False)
    year = forms.IntegerField(min_value=1800, max_value=2200, required=False)
    album = forms.CharField(max_length=200, required=False)
    genre = forms.CharField(max_length=100, required=False)
    director = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict:
        data = super().clean()
        return {k: clean_text(v) if isinstance(v, str) else v for k, v in data.items()}


class BulkEditForm(EditVideoForm):
    """The same metadata for the Library's selection: a blank field is left
    as each video has it (a title is each video's own)."""

    title = None

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
