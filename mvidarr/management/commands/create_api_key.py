from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mvidarr.models import MAX_KEY_NAME, SCOPES, ApiKey, KeyLimit


class Command(BaseCommand):
    help = "Create an API key for USERNAME and print it (last line). It is shown only once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell keys apart.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=SCOPES,
            dest="scopes",
            help="What the key may do: read (safe methods and sockets) or control "
            "(everything the user may). Repeat for both; the default is both.",
        )

    def handle(self, *args, username: str, name: str, scopes, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if len(name) > MAX_KEY_NAME:
            raise CommandError(f"A key's name has at most {MAX_KEY_NAME} characters.")
        try:
            _, raw = ApiKey.issue(user, name=name, scopes=scopes or SCOPES)
        except KeyLimit as e:
            raise CommandError(str(e)) from e
        self.stdout.write(raw)
