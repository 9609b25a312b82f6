from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from mvidarr import config
from mvidarr.models import CONTROL, MAX_KEY_NAME, READ


class AdminSetupForm(UserCreationForm):
    """The first account: a superuser chosen by whoever installs MVidarr."""


class OptionsForm(forms.Form):
    """The run-time options of one group of the Settings page (see
    ``mvidarr.config``). An option its environment variable sets is shown
    disabled, and never saved. A secret is never shown back: its field starts
    empty, left empty it keeps what is saved, and a "Forget the saved one" box clears it."""

    def __init__(self, group: str, data=None) -> None:
        super().__init__(data, prefix=group)
        self.group = group
        self.options = [option for option in config.in_group(group) if option.field]
        for option in self.options:
            field = option.field()
            if option.from_env:
                field.disabled, field.required = True, False
            if not option.secret:
                field.initial = config.get(option.name)
            self.fields[option.name] = field
            if option.secret and config.source(option.name) == "saved":
                self.fields[f"{option.name}__forget"] = forms.BooleanField(
                    label="Forget the saved one", required=False
                )

    @property
    def editable(self) -> bool:
        return any(not option.from_env for option in self.options)

    def rows(self) -> list[dict]:
        """What the page shows per option: its field, where its value comes
        from, and (for a secret) whether it is set."""
        return [
            {
                "field": self[option.name],
                "forget": self[forget]
                if (forget := f"{option.name}__forget") in self.fields
                else None,
                "env": option.env if option.from_env else "",
                "secret": config.masked(config.get(option.name)) if option.secret else "",
            }
            for option in self.options
        ]

    def changes(self) -> dict:
        """The values to save: each option not set by the environment, but a
        secret left empty (kept) unless "Forget the saved one" is ticked."""
        values = {}
        for option in self.options:
            if option.from_env:
                continue
            value = self.cleaned_data[option.name]
            if option.secret:
                if self.cleaned_data.get(f"{option.name}__forget"):
                    value = ""
                elif not value:
                    continue
            values[option.name] = value
        return values


class ApiKeyForm(forms.Form):
    """A new API key: a name to tell it apart and what it may do."""

    name = forms.CharField(
        max_length=MAX_KEY_NAME,
        help_text="To tell your keys apart, e.g. “Grafana” or “laptop script”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=[
            (READ, "read: look at the library and jobs, follow them live"),
            (CONTROL, "control: everything your account may do"),
        ],
        widget=forms.CheckboxSelectMultiple,
        initial=[READ],
        error_messages={"required": "Choose what the key may do: read, control or both."},
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name or not name.isprintable():
            raise forms.ValidationError("Give the key a name of printable characters.")
        return name
