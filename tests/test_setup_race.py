"""First-run setup creates exactly one administrator, even when several people
(or one impatient double-clicker) submit the form at the same moment."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from tests.live import LiveApp

COUNT = (
    "from django.contrib.auth.models import User; "
    "print(User.objects.filter(is_superuser=True).count())"
)


@pytest.fixture(params=["embedded", "redis"])
def fresh_app(request):
    """A running app with no account at all (LiveApp.start would add some)."""
    app = LiveApp(request.param)
    try:
        app.manage("migrate", "-v0")
        app.start_process("serve", "serve", "--port", str(app.port), "--no-migrate")
        app.wait_healthy()
        yield app
    finally:
        app.stop()


def test_six_concurrent_setups_create_exactly_one_administrator(fresh_app):
    clients, forms = [], []
    for i in range(6):
        client = httpx.Client(base_url=fresh_app.base_url, timeout=30)
        page = client.get("/setup/")
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        password = "a-long-and-unusual-passphrase-42"
        forms.append(
            {
                "csrfmiddlewaretoken": token,
                "username": f"admin{i}",
                "password1": password,
                "password2": password,
            }
        )
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def submit(client: httpx.Client, form: dict) -> None:
        barrier.wait()
        statuses.append(client.post("/setup/", data=form).status_code)

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for client in clients:
        client.close()
    assert statuses == [302] * 6
    assert fresh_app.manage("shell", "-c", COUNT).splitlines()[-1] == "1"
