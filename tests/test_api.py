"""The JSON API as a script would use it: auth, isolation, and bad input."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.urls import get_resolver

from jobs.models import Job
from mvidarr import config
from mvidarr.models import ApiKey
from tests.pagekit import video_of
from videos.models import Video

URL = "http://127.0.0.1:9/clip.mp4"


def test_health_needs_no_login_and_says_ok(db, client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/jobs"), ("get", "/videos"), ("post", "/videos")]
)
def test_everything_else_needs_a_key(api, method, path):
    response = api(method, path, user=None, body={})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_wrong_key_is_refused(client, keys):
    assert client.get("/api/jobs", HTTP_X_API_KEY="mvk_nope").status_code == 401
    assert client.get("/api/jobs", HTTP_AUTHORIZATION="Bearer mvk_nope").status_code == 401


def test_bearer_tokens_work_like_api_keys(client, keys):
    assert client.get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer {keys['alice']}").status_code == 200


def test_adding_a_video_queues_its_metadata_and_is_idempotent(api):
    first = api("post", "/videos", body={"url": URL, "artist": "A"})
    assert first.status_code == 201
    job = Job.objects.get(pk=first.json()["job_id"])
    assert job.kind == "extract_video_info" and job.status == "queued"
    again = api("post", "/videos", body={"url": URL})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Video.objects.count() == 1


def test_download_twice_returns_the_same_active_job(api):
    video_id = api("post", "/videos", body={"url": URL}).json()["id"]
    first = api("post", f"/videos/{video_id}/download")
    second = api("post", f"/videos/{video_id}/download")
    assert first.status_code == second.status_code == 202
    assert first.json()["job_id"] == second.json()["job_id"]
    assert Job.objects.filter(kind="download_video").count() == 1


def test_queueing_a_download_takes_four_queries_on_postgresql(
    api, users, django_assert_num_queries
):
    """Who calls (the key, its account and the library it sees: one query),
    what they may do (one), the video with its artist (one), then the job,
    its first log line and the video's status: one statement on PostgreSQL,
    three in a transaction on SQLite."""
    video = video_of(users["alice"], "Song", artist="Band")
    api("get", "/jobs")  # the key's first use of the minute is noted, once
    config.get("JOB_MAX_ATTEMPTS")  # saved settings are read once per CACHE_SECONDS
    writes = 1 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(3 + writes + 2):  # and the test transaction's savepoint
        answer = api("post", f"/videos/{video.pk}/download")
    assert answer.status_code == 202
    job = Job.objects.get(pk=answer.json()["job_id"])
    assert job.label == "Band - Song" and job.status == "queued"
    assert [line.message for line in job.logs.all()] == ["Queued on video_downloads"]
    assert Video.objects.get(pk=video.pk).status == "downloading"


def test_creating_a_job_by_url(api):
    response = api("post", "/jobs", body={"kind": "download_video", "url": URL})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "download_video"
    assert set(body["progress"]) == {
        "percent",
        "downloaded_bytes",
        "total_bytes",
        "speed",
        "eta",
        "stage",
        "detail",
    }
    listed = api("get", "/jobs").json()
    assert [j["id"] for j in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": "ftp://x/y"}, 400),
        ({"url": "-o/etc/passwd"}, 400),
        ({"url": "--exec rm"}, 400),
        ({"url": "http://"}, 400),
        ({"url": 5}, 422),
        ({"url": None}, 422),
        ({}, 422),
        ({"url": "http://e.com/" + "a" * 5000}, 422),
        ({"url": URL, "title": "t" * 1000}, 422),
        ([1, 2], 422),
        ("just a string", 422),
    ],
)
def test_bad_video_input_gets_a_clear_4xx(api, body, status):
    response = api("post", "/videos", body=body)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert Video.objects.count() == 0


def test_private_urls_are_refused_by_default(api, settings):
    settings.ALLOW_PRIVATE_URLS = False
    response = api("post", "/videos", body={"url": "http://169.254.169.254/latest"})
    assert response.status_code == 400
    assert "private" in response.json()["detail"]


def test_unknown_job_kinds_are_refused(api):
    response = api("post", "/jobs", body={"kind": "rm_rf", "url": URL})
    assert response.status_code == 422


def test_malformed_json_is_a_400(api):
    response = api("post", "/videos", raw="{not json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_oversized_body_is_a_413(api):
    response = api("post", "/videos", raw=json.dumps({"url": URL, "title": "x" * 200_000}))
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body too large."


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/00000000-0000-0000-0000-000000000000",
        "/jobs/not-a-uuid",
        "/videos/999999",
        "/videos/-1",
    ],
)
def test_unknown_ids_are_404(api, path):
    assert api("get", path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/nope"), ("post", "/nope/1"), ("get", "/videos/abc"), ("delete", "/jobs/x/y")],
)
def test_paths_the_api_does_not_have_are_a_json_404(api, method, path):
    response = api(method, path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_method_a_path_does_not_take_is_a_json_405_that_names_the_allowed_ones(api):
    response = api("put", "/videos/1/download")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"detail": "Method PUT not allowed here; allowed: POST."}


def test_a_server_error_in_the_api_is_json_and_a_page_s_is_django_s_plain_page(rf):
    handle = get_resolver().resolve_error_handler(500)
    answer = handle(rf.post("/api/videos"))
    assert answer.status_code == 500 and json.loads(answer.content)["detail"]
    page = handle(rf.get("/library/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_users_cannot_see_or_touch_each_others_jobs(api):
    job_id = api("post", "/jobs", body={"kind": "download_video", "url": URL}).json()["id"]
    video_id = Video.objects.get().pk
    assert api("get", f"/jobs/{job_id}", user="bob").status_code == 404
    assert api("post", f"/jobs/{job_id}/cancel", user="bob").status_code == 404
    assert api("get", f"/jobs/{job_id}/log", user="bob").status_code == 404
    assert api("get", f"/videos/{video_id}", user="bob").status_code == 404
    assert api("post", f"/videos/{video_id}/download", user="bob").status_code == 404
    assert api("get", "/jobs", user="bob").json() == []
    assert api("get", "/videos", user="bob").json()["count"] == 0
    assert Job.objects.get(pk=job_id).status == "queued"
    # staff see everything
    assert api("get", f"/jobs/{job_id}", user="staff").status_code == 200


def test_cancel_a_queued_job_and_read_its_log(api):
    job_id = api("post", "/jobs", body={"kind": "download_video", "url": URL}).json()["id"]
    response = api("post", f"/jobs/{job_id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert api("post", f"/jobs/{job_id}/cancel").status_code == 202  # idempotent
    log = api("get", f"/jobs/{job_id}/log").json()
    assert [entry["message"] for entry in log][-1] == "Cancelled"
    retried = api("post", f"/jobs/{job_id}/retry")
    assert retried.status_code == 202 and retried.json()["id"] != job_id


def test_session_auth_requires_csrf(client, users):
    client.force_login(users["alice"])
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(users["alice"])
    assert csrf_client.get("/api/jobs").status_code == 200
    response = csrf_client.post("/api/videos", data={"url": URL}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert Video.objects.count() == 0


def test_api_keys_are_stored_hashed(keys):
    for raw in keys.values():
        assert not ApiKey.objects.filter(digest=raw).exists()
        assert ApiKey.authenticate(raw) is not None
    assert ApiKey.authenticate(str(uuid.uuid4())) is None


def test_the_openapi_docs_need_a_login(client, users):
    assert client.get("/api/docs").status_code == 302
    client.force_login(users["alice"])
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/api/videos/{video_id}/download" in schema["paths"]


def test_two_people_adding_one_playlist_each_get_their_own_job(api):
    url = "http://127.0.0.1:9/playlist.xml"
    alices = api("post", "/jobs", body={"kind": "download_playlist", "url": url}).json()
    again = api("post", "/jobs", body={"kind": "download_playlist", "url": url}).json()
    bobs = api("post", "/jobs", user="bob", body={"kind": "download_playlist", "url": url}).json()
    assert again["id"] == alices["id"]  # the same person: the active job, not a second one
    assert bobs["id"] != alices["id"]
    assert api("get", f"/jobs/{alices['id']}", user="bob").status_code == 404
