"""``manage.py download`` and ``manage.py jobs`` as scripts use them: exit
codes and output, against the running app in both modes, and in embedded
mode with no server running (the command then runs the job itself)."""

from __future__ import annotations

import os
import signal

from tests.apikit import finished, job_of, submit_download, unique, wait_for
from tests.clikit import cli, job_id_in, start_cli


def test_a_download_exits_0_and_names_the_file(app, media):
    done = cli(app, "download", media.url(unique("media/clip.mp4")), "--user", "alice")
    assert done.returncode == 0, done.stderr
    job_id = job_id_in(done.stdout)
    assert "Downloaded: " in done.stdout
    with app.client("alice") as client:
        job = job_of(client, job_id)
    assert job["status"] == "succeeded"
    assert job["result"]["file"] in done.stdout


def test_a_failed_download_exits_1_with_the_error_in_plain_words(app, media):
    url = media.url(unique("media/clip.mp4?status=404"))
    done = cli(app, "download", url, "--user", "alice")
    assert done.returncode == 1
    assert "Failed: Video not found (HTTP 404)" in done.stderr


def test_a_playlist_downloaded_as_a_video_says_to_add_it_as_a_playlist(embedded_app, media):
    url = media.url(unique("feed.xml?n=2"))
    done = cli(embedded_app, "download", url, "--user", "alice")
    assert done.returncode == 1
    assert "--kind playlist" in done.stderr


def test_a_playlist_exits_0_once_every_video_is_downloaded(app, media):
    url = media.url(unique("feed.xml?n=3"))
    done = cli(app, "download", url, "--kind", "playlist", "--user", "alice")
    assert done.returncode == 0, done.stderr
    assert "Done: 3 of 3 video(s) downloaded." in done.stdout


def test_without_user_and_with_no_superuser_it_asks_whose_library(embedded_app, media):
    done = cli(embedded_app, "download", media.url("media/clip.mp4"))
    assert done.returncode == 1
    assert "no superuser" in done.stderr and "--user" in done.stderr


def test_bad_input_exits_1_with_a_message(embedded_app, media):
    for args, message in (
        (["download", "file:///etc/passwd", "--user", "alice"], "http"),
        (["download", media.url("media/clip.mp4"), "--user", "nobody"], "No user named"),
        (
            ["download", media.url("media/clip.mp4"), "--user", "alice", "--profile", "nope"],
            "No such profile",
        ),
        (["jobs", "show", "not-a-job"], "No job 'not-a-job'"),
        (["jobs", "cancel", "9e4b1a4e-0000-4000-8000-000000000000"], "No job"),
    ):
        done = cli(embedded_app, *args)
        assert done.returncode == 1, (args, done.stdout)
        assert message in done.stderr, (args, done.stderr)


def test_ctrl_c_with_detach_leaves_the_job_running_and_prints_its_id(app, media):
    url = media.url(unique("media/long.mp4?rate=100000"))
    proc = start_cli(app, "download", url, "--user", "alice", "--detach")
    with app.client("alice") as client:
        job_id = _started(proc, client)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert f"Detached: job {job_id} keeps running." in out
        assert job_of(client, job_id)["status"] == "running"
        client.post(f"/api/jobs/{job_id}/cancel")


def test_sigterm_cancels_the_job_like_ctrl_c(app, media):
    url = media.url(unique("media/long.mp4?rate=100000"))
    proc = start_cli(app, "download", url, "--user", "alice")
    with app.client("alice") as client:
        job_id = _started(proc, client)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert f"Cancelled job {job_id}." in err
        assert job_of(client, job_id)["status"] == "cancelled"


def _started(proc, client) -> str:
    """The id the command printed, once its job runs."""
    job_id = job_id_in(proc.stdout.readline())
    wait_for(lambda: job_of(client, job_id)["progress"]["percent"])
    return job_id


def test_the_jobs_command_lists_shows_cancels_and_retries(app, media):
    with app.client("alice") as client:
        done_id = submit_download(client, media.url(unique("media/clip.mp4")))
        finished(client, done_id)
        slow_id = submit_download(client, media.url(unique("media/long.mp4?rate=50000")))
        wait_for(lambda: job_of(client, slow_id)["status"] == "running")

        listed = cli(app, "jobs", "list", "--user", "alice", "--kind", "download_video")
        assert listed.returncode == 0, listed.stderr
        assert done_id in listed.stdout and slow_id in listed.stdout
        running = cli(app, "jobs", "list", "--status", "running", "--user", "alice")
        assert slow_id in running.stdout and done_id not in running.stdout

        shown = cli(app, "jobs", "show", done_id)
        assert shown.returncode == 0, shown.stderr
        for text in (done_id, "download_video", "succeeded", "alice", "Succeeded", "Saved to"):
            assert text in shown.stdout, text

        cancelled = cli(app, "jobs", "cancel", slow_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert job_of(client, slow_id)["status"] == "cancelled"
        again = cli(app, "jobs", "cancel", done_id)
        assert again.returncode == 1
        assert "The job has already succeeded." in again.stderr

        retried = cli(app, "jobs", "retry", slow_id)
        assert retried.returncode == 0, retried.stderr
        new_id = retried.stdout.split()[-1]
        assert job_of(client, new_id)["status"] in ("queued", "running")
        client.post(f"/api/jobs/{new_id}/cancel")
        refused = cli(app, "jobs", "retry", done_id)
        assert refused.returncode == 1
        assert "Only failed or cancelled jobs can be retried." in refused.stderr


def test_with_no_server_running_the_command_runs_the_download_itself(idle_app, media):
    done = cli(idle_app, "download", media.url(unique("media/clip.mp4")), "--user", "bob")
    assert done.returncode == 0, done.stderr
    job_id = job_id_in(done.stdout)
    shown = cli(idle_app, "jobs", "show", job_id)
    assert "succeeded" in shown.stdout and "bob" in shown.stdout
    assert not (idle_app.data_dir / "serve.json").exists()
    assert not os.listdir(idle_app.data_dir / "work")


def test_with_no_server_running_a_retried_job_waits_for_serve(idle_app, media):
    url = media.url(unique("media/clip.mp4?status=404"))
    failed = cli(idle_app, "download", url, "--user", "bob")
    assert failed.returncode == 1
    retried = cli(idle_app, "jobs", "retry", job_id_in(failed.stdout))
    assert retried.returncode == 0, retried.stderr
    assert "waits until `serve` starts" in retried.stderr
    queued = cli(idle_app, "jobs", "list", "--status", "queued")
    assert retried.stdout.split()[-1] in queued.stdout
