"""What a finishing attempt stored outside its work directory, until the job records it.

A kind's ``store()`` does slow work (moving a download into the library,
probing it) before the short transaction that marks the job succeeded. A
worker that died between the two would leave that work unrecorded: a file in
the library that no video names, and a retry that downloads it all again. So
the attempt first writes what it stored on the row (``keep_stored``, scoped to
the attempt), and then:

1. marking the job succeeded clears it, in the same UPDATE;
2. the next attempt (the watchdog queued the job again, past the attempt limit
   if need be: ``Job.will_retry``) records it instead of doing the work twice,
   or undoes it when that fails (see ``jobs.supervisor``);
3. a job that ends any other way (cancelled, failed for good) undoes it.
   Several parties may try (a cancel and the attempt it interrupted): the one
   whose UPDATE clears the field (``take_stored``) calls the kind's ``discard()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: Job is built from this mixin
    from jobs.models.job import Job


class StoredMixin:
    def keep_stored(self: Job, stored: dict[str, Any]) -> bool:
        """Record what this attempt stored; False when the attempt is no longer ours."""
        self.stored = stored
        return bool(self._running().update(stored=stored))

    def take_stored(self: Job) -> dict[str, Any] | None:
        """Clear what an attempt stored and return it, unless somebody else cleared it first."""
        stored, self.stored = self.stored, None
        if stored is None:
            return None
        rows = type(self).objects.filter(pk=self.pk, stored__isnull=False)
        return stored if rows.update(stored=None) else None

    def discard_stored(self: Job) -> None:
        """Undo what an attempt stored (once, whoever asks first)."""
        if (stored := self.take_stored()) is not None:
            self.spec.discard(self, stored)
