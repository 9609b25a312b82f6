"""``GET /metrics``: the job system in Prometheus' text format.

Everything is read when Prometheus scrapes, from where it already lives, so
that any web process answers for the whole deployment, whatever number of
worker processes on whatever number of hosts runs the jobs:

1. Jobs by queue and status, the queue depth (queued, due, not paused) and
   the duration histogram: ONE grouped query over the jobs table
   (``job_rows``), plus the paused queues.
2. Workers alive and their threads per queue: the ``WorkerBeat`` rows.
3. Broker messages per queue (scaled mode): the length of Dramatiq's Redis
   lists, the signal a queue-length autoscaler reads.
4. WebSocket connections: the places of ``jobs.sockets`` (a Redis sorted set
   per user in scaled mode, this process's dict in embedded mode).
5. Progress frames sent and dropped: ``jobs.publisher.frames``, counted in
   every process and added up in Redis (``jobs.counters``).

Durations come from the database too: a *gauge histogram* of the jobs that
finished in the last hour, by kind and outcome, each measured from the start
of its last attempt to its end. Observing them where jobs finish would need
a histogram per process: prometheus-client's multiprocess mode shares files
on one host only (our workers may run on many), and per-process endpoints
would need every worker scraped. The database already knows every finish,
whichever process or path (a worker, a cancel on a web page, the watchdog)
made it, and survives restarts. Read it with ``histogram_quantile`` directly
(no ``rate()``: the window is the hour).

This registry holds no process or platform collectors: with several web
processes on one port each scrape would describe another process.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, FloatField, Func, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from jobs import broker, publisher, sockets
from jobs.models import ALL, FINISHED, Job, PausedQueue, Status, WorkerBeat

logger = logging.getLogger(__name__)

# Upper bounds (seconds) of the duration buckets: from a metadata look-up to
# a long download.
BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
WINDOW = timedelta(hours=1)
FRAME_TYPES = ("progress", "status")
DROP_REASONS = ("superseded", "unbound", "error")


class Seconds(Func):
    """``end - start`` in seconds, computed by the database itself. (Django's
    own datetime subtraction calls a Python function per row and bucket on
    SQLite: about fifteen times the cost of the whole scrape.)"""

    arity = 2
    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(")


def job_rows(now) -> list[dict]:
    """Per (queue, kind, status): the jobs, the due ones, and for the jobs
    that finished within ``WINDOW`` their count, total and bucketed run time."""
    recent = Q(finished_at__gte=now - WINDOW, started_at__isnull=False)
    due = Q(status=Status.QUEUED) & (Q(retry_at__isnull=True) | Q(retry_at__lte=now))
    buckets = {
        f"le_{i}": Count("pk", filter=recent & Q(ran__lte=bound)) for i, bound in enumerate(BUCKETS)
    }
    return list(
        Job.objects.order_by()
        .annotate(ran=Seconds(F("finished_at"), F("started_at")))
        .values("queue", "kind", "status")
        .annotate(
            jobs=Count("pk"),
            due=Count("pk", filter=due),
            recent=Count("pk", filter=recent),
            ran_total=Sum("ran", filter=recent),
            **buckets,
        )
    )


class JobsCollector(Collector):
    def collect(self):
        now = timezone.now()
        rows = job_rows(now)
        queues = sorted({*settings.QUEUE_CONCURRENCY, *(row["queue"] for row in rows)})
        paused = set(PausedQueue.objects.values_list("queue", flat=True))
        yield from self._jobs(rows, queues, paused)
        yield self._durations(rows)
        yield from self._workers(queues)
        client = None if settings.EMBEDDED else Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        try:  # Redis away: the database's figures still answer, these are left out
            yield from self._from_redis(client, queues)
        except RedisError:
            logger.warning("Metrics: Redis did not answer", exc_info=True)
        finally:
            if client is not None:
                client.close()

    def _from_redis(self, client: Redis | None, queues: list[str]):
        """What Redis holds in scaled mode (this process's memory in embedded mode)."""
        if (lengths := broker.queue_lengths(queues)) is not None:
            messages = GaugeMetricFamily(
                "mvidarr_broker_messages",
                "Messages waiting in the queue's Redis list, not yet fetched by a worker",
                labels=["queue"],
            )
            for queue, n in lengths.items():
                messages.add_metric([queue], n)
            yield messages
        yield GaugeMetricFamily(
            "mvidarr_websocket_connections",
            "Open live-update sockets (/ws/jobs/ and /ws/ui/), all web processes",
            value=_sockets(client),
        )
        yield from _frames(publisher.frames.totals(client))

    def _jobs(self, rows: list[dict], queues: list[str], paused: set[str]):
        jobs = GaugeMetricFamily(
            "mvidarr_jobs", "Jobs by queue and status", labels=["queue", "status"]
        )
        depth = GaugeMetricFamily(
            "mvidarr_queue_depth",
            "Queued jobs that are due and not paused: what workers could start now",
            labels=["queue"],
        )
        held = GaugeMetricFamily(
            "mvidarr_queue_paused", "1 while the queue is paused", labels=["queue"]
        )
        counts = {(q, s): 0 for q in queues for s in ALL}
        due = dict.fromkeys(queues, 0)
        for row in rows:
            counts[row["queue"], row["status"]] += row["jobs"]
            due[row["queue"]] += row["due"]
        for (queue, status), n in counts.items():
            jobs.add_metric([queue, status], n)
        for queue in queues:
            depth.add_metric([queue], 0 if queue in paused else due[queue])
            held.add_metric([queue], int(queue in paused))
        return jobs, depth, held

    def _durations(self, rows: list[dict]) -> GaugeHistogramMetricFamily:
        family = GaugeHistogramMetricFamily(
            "mvidarr_job_duration_seconds",
            "Jobs finished in the last hour by their last attempt's run time, by kind and outcome",
            labels=["kind", "outcome"],
        )
        sums: dict[tuple[str, str], list] = {}
        for row in rows:
            if row["status"] not in FINISHED or not row["recent"]:
                continue
            total = sums.setdefault((row["kind"], row["status"]), [0] * (len(BUCKETS) + 2))
            for i in range(len(BUCKETS)):
                total[i] += row[f"le_{i}"]
            total[-2] += row["recent"]
            total[-1] += row["ran_total"]
        for (kind, outcome), total in sorted(sums.items()):
            buckets = [(_le(bound), total[i]) for i, bound in enumerate(BUCKETS)]
            family.add_metric([kind, outcome], [*buckets, ("+Inf", total[-2])], total[-1])
        return family

    def _workers(self, queues: list[str]):
        beats = list(WorkerBeat.alive().values_list("queues", flat=True))
        threads = dict.fromkeys(queues, 0)
        for served in beats:
            for queue, n in served.items():
                threads[queue] = threads.get(queue, 0) + n
        alive = GaugeMetricFamily(
            "mvidarr_workers_alive",
            f"Worker processes that beat within the last {settings.WORKER_DEAD_AFTER} s",
            value=len(beats),
        )
        slots = GaugeMetricFamily(
            "mvidarr_worker_threads",
            "Worker threads of the live workers, per queue",
            labels=["queue"],
        )
        for queue, n in sorted(threads.items()):
            slots.add_metric([queue], n)
        return alive, slots


def _le(bound: float) -> str:
    return str(float(bound))


def _sockets(client: Redis | None) -> int:
    if client is None:
        return sockets.places.held_here()
    now = timezone.now().timestamp()
    keys = list(client.scan_iter(match=f"{sockets.PLACES_PREFIX}*", count=500))
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zcount(key, now, "+inf")
        return sum(pipe.execute())


def _frames(totals: dict[str, int]):
    sent = CounterMetricFamily(
        "mvidarr_progress_frames_sent",
        "Job frames handed to the channel layer, by type",
        labels=["type"],
    )
    for kind in FRAME_TYPES:
        sent.add_metric([kind], totals.get(f"sent:{kind}", 0))
    dropped = CounterMetricFamily(
        "mvidarr_progress_frames_dropped",
        "Job frames not sent: replaced by a newer progress frame of the same job (superseded),"
        " published before the web server's loop was bound (unbound), or refused by the"
        " channel layer (error)",
        labels=["reason"],
    )
    for reason in DROP_REASONS:
        dropped.add_metric([reason], totals.get(f"dropped:{reason}", 0))
    return sent, dropped


registry = CollectorRegistry(auto_describe=False)
registry.register(JobsCollector())


def _allowed(request: HttpRequest) -> int:
    """200, or the status that refuses this request: a bearer token must be
    the configured one (compared in constant time; none configured, none
    passes); without one, only a staff session."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        expected = settings.METRICS_TOKEN.encode()
        return 200 if expected and hmac.compare_digest(token.strip().encode(), expected) else 401
    if not request.user.is_authenticated:
        return 401
    return 200 if request.user.is_staff else 403


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    status = _allowed(request)
    if status == 401:
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if status == 403:
        return HttpResponse("Staff only.\n", status=403, content_type="text/plain")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(registry), content_type=content_type)
