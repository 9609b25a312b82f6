"""How long a socket lives and how many a user may hold: closed once its
login or API key no longer holds, at most MVIDARR_WS_MAX_PER_USER per user
(across web processes in scaled mode), and each fragment rendered once for
every socket that shows it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from websockets.sync.client import connect

from jobs import consumers, publisher
from tests.apikit import close_code, web_session
from tests.live import PASSWORD, LiveApp

CAP = 3
ENV = {"MVIDARR_WS_MAX_PER_USER": str(CAP), "MVIDARR_WS_RECHECK": "1"}


@pytest.fixture(scope="module", params=["embedded", "redis"])
def app(request):
    with LiveApp(request.param, extra_env=ENV) as app:
        yield app


def session_socket(app, web: httpx.Client):
    headers = {"Cookie": f"sessionid={web.cookies['sessionid']}", "Origin": app.base_url}
    return connect(f"{app.ws_url}/ws/jobs/", additional_headers=headers, open_timeout=5)


def test_a_user_holds_at_most_the_cap_of_sockets_and_a_closed_one_frees_its_place(app):
    headers = app.ws_headers("bob")
    url = f"{app.ws_url}/ws/jobs/"
    sockets = [connect(url, additional_headers=headers) for _ in range(CAP)]
    try:
        extra = connect(url, additional_headers=headers)
        assert close_code(extra, 5) == 4429
        with connect(url, additional_headers=app.ws_headers("alice")) as other_user:
            other_user.send(json.dumps({"type": "ping"}))
            assert json.loads(other_user.recv(5)) == {"type": "pong"}
        sockets.pop().close()
        time.sleep(0.5)
        sockets.append(connect(url, additional_headers=headers))
        sockets[-1].send(json.dumps({"type": "ping"}))
        assert json.loads(sockets[-1].recv(5)) == {"type": "pong"}
    finally:
        for ws in sockets:
            ws.close()


def test_logging_out_closes_the_sessions_sockets(app):
    web = web_session(app)
    ws = session_socket(app, web)
    token = web.cookies["csrftoken"]
    web.post("/logout/", headers={"X-CSRFToken": token, "Referer": app.base_url + "/"})
    assert close_code(ws) == 4401


def test_a_password_change_or_deactivation_closes_the_users_sockets(app):
    for change in (
        "u.set_password('another-long-password'); u.save()",
        "u.is_active = False; u.save()",
    ):
        name = f"u{uuid.uuid4().hex[:8]}"
        app.manage("shell", "-c", _make_user(name))
        web = web_session(app, name)
        ws = session_socket(app, web)
        app.manage("shell", "-c", f"{_get_user(name)}; {change}")
        assert close_code(ws) == 4401, change


def test_revoking_an_api_key_closes_its_sockets(app):
    name = f"k{uuid.uuid4().hex[:8]}"
    out = app.manage("shell", "-c", _make_user(name) + "; print(ApiKey.issue(u)[1])")
    key = out.splitlines()[-1]
    ws = connect(f"{app.ws_url}/ws/jobs/", additional_headers={"X-Api-Key": key})
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv(5)) == {"type": "pong"}
    app.manage(
        "shell",
        "-c",
        f"from mvidarr.models import ApiKey; {_get_user(name)}; "
        "ApiKey.objects.filter(user=u).delete()",
    )
    assert close_code(ws) == 4401


def _make_user(name: str) -> str:
    return (
        "from django.contrib.auth import get_user_model; from mvidarr.models import ApiKey; "
        f"u = get_user_model().objects.create_user({name!r}, password={PASSWORD!r})"
    )


def _get_user(name: str) -> str:
    return (
        "from django.contrib.auth import get_user_model; "
        f"u = get_user_model().objects.get(username={name!r})"
    )


@pytest.mark.django_db(transaction=True)
def test_sixty_activity_sockets_of_one_user_cost_one_render_per_change(
    users, monkeypatch, settings
):
    settings.WS_MAX_PER_USER = 100
    renders = []
    real = consumers._render_activity
    monkeypatch.setattr(
        consumers, "_render_activity", lambda *args: renders.append(1) or real(*args)
    )
    alice = users["alice"]

    async def scenario() -> tuple[int, set[str]]:
        sockets = []
        for _ in range(60):
            ws = WebsocketCommunicator(consumers.UiConsumer.as_asgi(), "/ws/ui/?page=activity")
            ws.scope["user"] = alice
            connected, _ = await ws.connect()
            assert connected
            await ws.receive_from(5)  # the snapshot
            sockets.append(ws)
        before = len(renders)
        frame = {
            "type": "status",
            "job_id": str(uuid.uuid4()),
            "status": "queued",
            "ts": time.time(),
        }
        await get_channel_layer().group_send(
            publisher.user_group(alice.pk),
            {
                "type": "job.event",
                "owner_id": alice.pk,
                "subject": "",
                "kind": "ping",
                "frame": frame,
            },
        )
        pages = {await ws.receive_from(5) for ws in sockets}
        for ws in sockets:
            await ws.disconnect()
        return len(renders) - before, pages

    count, pages = asyncio.run(scenario())
    assert count == 1 and len(pages) == 1
