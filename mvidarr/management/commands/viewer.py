from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mvidarr import roles


class Command(BaseCommand):
    help = (
        "Make USERNAME a read-only viewer of OWNER's library (--of OWNER), or an "
        "ordinary member again (--member)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--of", metavar="OWNER", help="The account whose library it sees.")
        which.add_argument("--member", action="store_true", help="Undo: an ordinary account.")

    def handle(self, *args, username: str, of: str | None, member: bool, **options) -> None:
        user = _user(username)
        if member:
            roles.make_member(user)
            self.stdout.write(f"{username} is a member: it changes its own library.")
            return
        try:
            roles.make_viewer(user, _user(of))
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        self.stdout.write(f"{username} views {of}'s library and changes nothing.")


def _user(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return user
