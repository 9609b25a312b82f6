from jobs.models.job import ACTIVE, FINISHED, PROGRESS_FIELDS, WORKER_NAME, Job, JobLog, JobQuerySet
from jobs.models.queues import DOWNLOADS, PausedQueue, ScheduledTask, WorkerBeat

__all__ = [
    "DOWNLOADS",
    "ACTIVE",
    "FINISHED",
    "PROGRESS_FIELDS",
    "WORKER_NAME",
    "Job",
    "JobLog",
    "JobQuerySet",
    "PausedQueue",
    "ScheduledTask",
    "WorkerBeat",
]
