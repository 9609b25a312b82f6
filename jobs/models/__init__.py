from jobs.models.job import PROGRESS_FIELDS, WORKER_NAME, Job
from jobs.models.log import JobLog
from jobs.models.queryset import ACTIVE, FINISHED, JobQuerySet
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
