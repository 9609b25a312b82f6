"""Job kinds: what each kind of job is, declared once, and the registry of them.

An app declares a kind by subclassing ``Kind``; the class attributes say how
the job system treats its jobs (queue, time limit, child process, pause,
priority) and the methods are hooks into the app's own models. This module
imports nothing else from ``jobs``: the models, the supervisor and the
Dramatiq wiring all read the registry, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # annotations only; the models import this module
    from jobs.models import Job
    from mvidarr.compiled import Change

DEFAULT_QUEUE = "default"


class Refused(ValueError):
    """A request to start a job that cannot be done as asked (the API answers 400)."""


class Kind:
    """One kind of job. Subclasses are registered under ``name`` when declared."""

    name: ClassVar[str] = ""
    queue: ClassVar[str] = DEFAULT_QUEUE
    time_limit: ClassVar[int] = 3600  # seconds, per attempt
    # "module:function" run in a child process (see jobs.child); without one,
    # ``run_inline`` does the work in the worker thread.
    child: ClassVar[str] = ""
    # Modules the job forkserver imports once, so each child starts in ms.
    preload: ClassVar[tuple[str, ...]] = ()
    # Stages in which the child is busy without moving bytes (e.g. ffmpeg):
    # the stall check leaves them alone.
    busy_stages: ClassVar[frozenset[str]] = frozenset()
    # "Pause downloads" holds the queues of pausable kinds.
    pausable: ClassVar[bool] = False
    # Whether a queued job can be moved to the front ("run now"), and the button's words.
    prioritisable: ClassVar[bool] = True
    run_now_label: ClassVar[str] = "Run next"
    # A parent kind: after its own work it waits for the children it created.
    waits_for_children: ClassVar[bool] = False
    # Whether a finished job can be redone by "Retry".
    retryable: ClassVar[bool] = True
    # Bookkeeping that comes with other work (reading a video's metadata): the
    # Activity page leaves it out unless asked, so that it does not crowd out the rest.
    quiet: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in KINDS:
            raise ValueError(f"Job kind {cls.name!r} is declared twice")
        KINDS[cls.name] = cls()

    # -- hooks -----------------------------------------------------------------

    def start(self, owner, data: dict[str, Any]) -> Job:
        """Start a job of this kind for ``POST /api/jobs`` (``data`` holds
        ``url``, ``title``, ``artist``); raise ``Refused`` for bad input.
        Kinds that people may not start directly keep this default."""
        raise Refused(f"Jobs of kind {self.name!r} cannot be started directly.")

    def queued(self, jobs: list[Job]) -> Change | None:
        """What new jobs of this kind change elsewhere (a video becomes
        "downloading"): a model, the primary keys of its rows and the values
        they get (``mvidarr.compiled.Change``), written in the statement or
        transaction that creates the jobs; None for nothing."""
        return None

    def prepare(self, job: Job) -> dict[str, Any]:
        """Plain parameters for the child process, read with the database."""
        return dict(job.params)

    def run_inline(self, job: Job) -> dict[str, Any]:
        """The work of a kind without ``child``, run in the worker thread."""
        raise NotImplementedError(f"{self.name} has neither a child nor run_inline")

    def received(self, job: Job, payload: Any) -> None:
        """Something the child emitted before finishing (see ``Reporter.emit``),
        called outside any transaction: open one for writes that belong together."""

    def store(self, job: Job, result: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        """Slow work on a finished child's result, outside any transaction:
        moving files, probing them. Raise ``WorkError`` to fail the attempt.
        Returns what ``succeeded`` gets."""
        return result

    def succeeded(self, job: Job, stored: dict[str, Any]) -> dict[str, Any]:
        """Quick database work in the transaction that marks the job succeeded;
        returns the job's result."""
        return stored

    def discard(self, job: Job, stored: dict[str, Any]) -> None:
        """Undo ``store`` when the job turned out to be no longer ours (cancelled meanwhile)."""

    def failed(self, job: Job) -> None:
        pass

    def cancelled(self, job: Job) -> None:
        pass

    def cancelled_many(self, jobs: list[Job]) -> None:
        """Queued jobs cancelled together (a parent's children)."""
        for job in jobs:
            self.cancelled(job)


KINDS: dict[str, Kind] = {}

# Called with every job that failed for good (after its last attempt),
# whatever its kind, once the failure is committed. Other apps add theirs
# (notifications); the job system knows nothing of them.
FAILURE_LISTENERS: list[Callable[[Job], None]] = []


def get(name: str) -> Kind:
    return KINDS[name]


def pausable_queues() -> set[str]:
    """The queues that "Pause downloads" holds."""
    return {kind.queue for kind in KINDS.values() if kind.pausable}


def quiet_kinds() -> list[str]:
    """The kinds the Activity page leaves out unless asked."""
    return sorted(name for name, kind in KINDS.items() if kind.quiet)


def startable() -> list[str]:
    """Kinds that ``POST /api/jobs`` accepts."""
    return sorted(name for name, kind in KINDS.items() if type(kind).start is not Kind.start)


def preloads() -> list[str]:
    return sorted({module for kind in KINDS.values() for module in kind.preload})
