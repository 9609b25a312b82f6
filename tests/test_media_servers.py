"""Jellyfin and Plex hear of new files in one debounced refresh (against
local fakes that answer as the real servers do), and "Test connection"
tells staff whether a server is usable."""

from __future__ import annotations

import pytest
from django.conf import settings

from integrations import events, tasks
from integrations.models import PendingRefresh
from jobs.models import Job
from jobs.supervisor import run_attempt
from mvidarr import config
from tests.integrationkit import closed_port


def run(job: Job) -> Job:
    run_attempt(str(job.pk))
    job.refresh_from_db()
    return job


def refresh_jobs() -> list[Job]:
    return list(Job.objects.filter(kind="refresh_media_servers"))


@pytest.fixture
def servers(users, jellyfin, plex):
    """Both fakes configured, Plex's music video section holding the library."""
    plex.folders = [str(settings.LIBRARY_DIR)]
    config.save(
        {
            "JELLYFIN_URL": jellyfin.url,
            "JELLYFIN_TOKEN": jellyfin.token,
            "PLEX_URL": plex.url + "/",
            "PLEX_TOKEN": plex.token,
        },
        users["staff"],
    )
    return jellyfin, plex


def library_file(n: int) -> str:
    return str(settings.LIBRARY_DIR / f"Artist {n}" / f"Artist {n} - Song [{n}].mp4")


def test_a_burst_of_downloads_makes_one_refresh_per_server(servers):
    jellyfin, plex = servers
    paths = [library_file(n) for n in range(20)]
    for path in paths:
        events.video_downloaded("Artist - Song", path)
    assert refresh_jobs() == []  # downloads only note their files
    assert tasks.refresh_media_servers() == 20
    [job] = refresh_jobs()
    events.video_downloaded("Late - Comer", library_file(99))
    assert tasks.refresh_media_servers() == 0  # one refresh at a time: the rest waits
    assert run(job).status == "succeeded", job.error

    [updated] = jellyfin.calls_to("POST", "/Library/Media/Updated")
    assert updated.headers["Authorization"] == f'MediaBrowser Token="{jellyfin.token}"'
    assert updated.json() == {
        "Updates": [{"Path": path, "UpdateType": "Created"} for path in sorted(paths)]
    }
    [refresh] = plex.refreshes()
    assert refresh.path == "/library/sections/7/refresh"
    assert refresh.query == {"path": [str(settings.LIBRARY_DIR)]}
    assert refresh.headers["X-Plex-Token"] == plex.token
    assert job.result["detail"] == (
        f"Jellyfin: told of 20 new file(s); Plex: refreshed Music Videos ({settings.LIBRARY_DIR})"
    )

    assert tasks.refresh_media_servers() == 1  # the late one goes in the next turn
    late = Job.objects.filter(kind="refresh_media_servers", status="queued").get()
    run(late)
    assert [c.json() for c in jellyfin.calls_to("POST", "/Library/Media/Updated")][1] == {
        "Updates": [{"Path": library_file(99), "UpdateType": "Created"}]
    }
    # One file: the refresh scans just its folder.
    assert plex.refreshes()[1].query == {"path": [str(settings.LIBRARY_DIR / "Artist 99")]}
    assert PendingRefresh.objects.count() == 0
    assert tasks.refresh_media_servers() == 0


def test_nothing_is_noted_without_a_media_server(users):
    events.video_downloaded("A - B", library_file(1))
    assert PendingRefresh.objects.count() == 0
    assert tasks.refresh_media_servers() == 0 and refresh_jobs() == []


def test_a_very_large_batch_asks_jellyfin_for_a_full_scan(servers):
    jellyfin, _plex = servers
    PendingRefresh.objects.bulk_create(PendingRefresh(path=library_file(n)) for n in range(501))
    tasks.refresh_media_servers()
    run(refresh_jobs()[0])
    assert len(jellyfin.calls_to("POST", "/Library/Refresh")) == 1
    assert jellyfin.calls_to("POST", "/Library/Media/Updated") == []


def test_a_refused_token_fails_the_refresh_without_retrying(servers):
    jellyfin, plex = servers
    config.save({"JELLYFIN_TOKEN": "not-the-right-key"})
    events.video_downloaded("A - B", library_file(1))
    tasks.refresh_media_servers()
    job = run(refresh_jobs()[0])
    assert job.status == "failed" and job.error_code == "media_server"
    assert "Jellyfin refused the token (HTTP 401)" in job.error
    assert "Plex: refreshed Music Videos" in job.error  # the other server still got it
    assert "not-the-right-key" not in job.error


def test_an_unreachable_server_is_tried_again(servers):
    config.save({"JELLYFIN_URL": f"http://127.0.0.1:{closed_port()}"})
    events.video_downloaded("A - B", library_file(1))
    tasks.refresh_media_servers()
    job = run(refresh_jobs()[0])
    assert job.status == "queued" and job.retry_at is not None
    assert "Jellyfin did not answer" in job.error


def test_plex_without_a_section_holding_the_library_says_so(servers):
    _jellyfin, plex = servers
    plex.folders = ["/srv/elsewhere"]
    events.video_downloaded("A - B", library_file(1))
    tasks.refresh_media_servers()
    job = run(refresh_jobs()[0])
    assert job.status == "failed"
    assert f"No Plex library folder holds {library_file(1)}" in job.error


@pytest.fixture
def staff_client(client, users):
    client.force_login(users["staff"])
    return client


def check_job(server: str) -> Job:
    return Job.objects.get(kind="check_media_server", subject=f"integration:{server}")


@pytest.mark.parametrize("name", ["jellyfin", "plex"])
def test_test_connection_shows_a_working_server(staff_client, servers, name):
    response = staff_client.post(f"/settings/media-servers/{name}/test/")
    assert response.status_code == 302
    page = staff_client.get("/settings/").content.decode()
    assert f'id="check-{name}"' in page and "working on it" in page
    job = run(check_job(name))
    assert job.status == "succeeded"
    expected = {
        "jellyfin": "Jellyfin 10.11.2 (living-room)",
        "plex": "Plex: Music Videos holds the library",
    }[name]
    assert job.result["detail"] == expected
    assert expected in staff_client.get("/settings/").content.decode()


@pytest.mark.parametrize(
    "change, error",
    [
        ({"JELLYFIN_TOKEN": "wrong-key"}, "Jellyfin refused the token (HTTP 401)"),
        ({"JELLYFIN_URL": "http://127.0.0.1:{closed}"}, "Jellyfin did not answer"),
        ({"JELLYFIN_URL": "", "JELLYFIN_TOKEN": ""}, "Set the Jellyfin URL and token first"),
    ],
)
def test_test_connection_shows_why_a_server_is_not_usable(staff_client, servers, change, error):
    config.save({k: v.format(closed=closed_port()) for k, v in change.items()})
    staff_client.post("/settings/media-servers/jellyfin/test/")
    job = run(check_job("jellyfin"))
    assert job.status == "failed" and job.attempts == 1  # no retry: staff are waiting
    assert error in job.error
    page = staff_client.get("/settings/").content.decode()
    assert error in page and "wrong-key" not in page


def test_test_connection_of_an_unknown_server_is_404(staff_client):
    assert staff_client.post("/settings/media-servers/emby/test/").status_code == 404
