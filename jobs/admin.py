from __future__ import annotations

from django.contrib import admin, messages
from django_dramatiq.models import Task

from jobs.models import Job, JobLog

# django_dramatiq's own task table stays empty (the jobs are ours, in Job):
# its admin page would only mislead.
if admin.site.is_registered(Task):
    admin.site.unregister(Task)


class JobLogInline(admin.TabularInline):
    model = JobLog
    extra = 0
    can_delete = False
    readonly_fields = ("ts", "level", "message")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "label_or_kind",
        "kind",
        "status",
        "percent",
        "attempts",
        "owner",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "queue", "error_code")
    search_fields = ("id", "label", "subject", "error")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [JobLogInline]
    actions = ["cancel_jobs", "retry_jobs"]

    @admin.display(description="Job")
    def label_or_kind(self, job: Job) -> str:
        return job.label or job.kind

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request, queryset) -> None:
        cancelled = sum(job.cancel() for job in queryset.active())
        self.message_user(request, f"Cancelled {cancelled} job(s).", messages.SUCCESS)

    @admin.action(description="Retry selected jobs (failed or cancelled)")
    def retry_jobs(self, request, queryset) -> None:
        retried = [job.retry() for job in queryset if job.can_retry]
        self.message_user(request, f"Started {len(retried)} new job(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False
