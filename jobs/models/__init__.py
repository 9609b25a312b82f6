from jobs.models.claiming import WORKER_ID, WORKER_NAME
from jobs.models.family import ChildSpec
from jobs.models.job import Job
from jobs.models.log import JobLog
from jobs.models.queryset import JobQuerySet
from jobs.models.queues import PausedQueue, ScheduledTask, WorkerBeat
from jobs.status import ACTIVE, ALL, FINISHED, PROGRESS_FIELDS, Status, progress_frame

__all__ = [
    "ACTIVE",
    "ALL",
    "FINISHED",
    "PROGRESS_FIELDS",
    "WORKER_ID",
    "WORKER_NAME",
    "ChildSpec",
    "Job",
    "JobLog",
    "JobQuerySet",
    "PausedQueue",
    "ScheduledTask",
    "Status",
    "WorkerBeat",
    "progress_frame",
]
