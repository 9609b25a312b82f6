from __future__ import annotations

from django.contrib.auth.forms import UserCreationForm


class AdminSetupForm(UserCreationForm):
    """The first account: a superuser chosen by whoever installs MVidarr."""
