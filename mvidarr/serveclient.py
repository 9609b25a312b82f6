"""Talking to a running ``serve`` (embedded mode) from a command: its JSON API
to start, cancel and retry jobs, and its ``/ws/jobs/`` socket for progress.

Both authenticate with an API key the command issues for the user and
deletes when it ends (``temporary_key``), so nothing long-lived is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import websockets

from jobs.follow import drain_frames, stop_loop
from jobs.kinds import Refused
from jobs.models import Job
from mvidarr.models import ApiKey
from mvidarr.serving import OPENER

logger = logging.getLogger(__name__)

KEY_NAME = "manage.py (temporary)"


@contextlib.contextmanager
def temporary_key(user) -> Iterator[str]:
    key, raw = ApiKey.issue(user, name=KEY_NAME)
    try:
        yield raw
    finally:
        key.delete()


class ServeControl:
    """``jobs.follow.LocalControl``'s methods, through the server's API."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.key = key
        self.where = base_url

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base_url}/api{path}",
            data=json.dumps(body or {}).encode(),
            headers={"X-Api-Key": self.key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with OPENER.open(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            try:
                detail = json.load(e).get("detail")
            except ValueError:
                detail = None
            if not isinstance(detail, str):
                detail = f"The server answered {e.code} {e.reason}."
            raise ValueError(detail) from None

    def start(self, owner, kind: str, data: dict[str, Any]) -> str:
        try:
            return self._post("/jobs", {"kind": kind, **data})["id"]
        except ValueError as e:
            raise Refused(str(e)) from None

    def cancel(self, job: Job) -> None:
        self._post(f"/jobs/{job.pk}/cancel")

    def retry(self, job: Job) -> str:
        return self._post(f"/jobs/{job.pk}/retry")["id"]


class SocketSource:
    """Progress and status frames from the server's ``/ws/jobs/``, for the
    jobs ``follow`` names (the socket subscribes to those shown), on a thread of its own. A
    lost connection is opened again; meanwhile the database tells the state."""

    def __init__(self, base_url: str, key: str) -> None:
        self.url = "ws" + base_url.removeprefix("http") + "/ws/jobs/"
        self.key = key
        self._frames: queue.SimpleQueue = queue.SimpleQueue()
        self._wanted: set[str] = set()
        self._lock = threading.Lock()
        self._changed: asyncio.Event | None = None
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="job-socket", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._run(), self.loop)

    async def _run(self) -> None:
        self._changed = asyncio.Event()
        while True:
            try:
                await self._listen()
            except (OSError, websockets.WebSocketException):
                logger.debug("The server's socket is unavailable", exc_info=True)
            await asyncio.sleep(1)

    async def _listen(self) -> None:
        headers = {"X-Api-Key": self.key}
        async with websockets.connect(self.url, additional_headers=headers) as socket:
            subscribed: set[str] = set()
            reader = asyncio.ensure_future(self._read(socket))
            try:
                while not reader.done():
                    with self._lock:
                        wanted = set(self._wanted)
                    for job_id in subscribed - wanted:
                        await socket.send(json.dumps({"type": "unsubscribe", "job_id": job_id}))
                    for job_id in wanted - subscribed:
                        await socket.send(json.dumps({"type": "subscribe", "job_id": job_id}))
                    subscribed = wanted
                    self._changed.clear()
                    waiter = asyncio.ensure_future(self._changed.wait())
                    await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                reader.result()
            finally:
                reader.cancel()

    async def _read(self, socket) -> None:
        async for text in socket:
            frame = json.loads(text)
            if frame.get("type") in ("progress", "status"):
                self._frames.put(frame)

    def frames(self, timeout: float) -> list[dict[str, Any]]:
        return drain_frames(self._frames, timeout)

    def follow(self, job_ids: list[str]) -> None:
        with self._lock:
            if set(job_ids) == self._wanted:
                return
            self._wanted = set(job_ids)
        if self._changed is not None:
            self.loop.call_soon_threadsafe(self._changed.set)

    def close(self) -> None:
        stop_loop(self.loop)
