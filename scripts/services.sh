# Sourced by test.sh and drills.sh (after lib.sh, with PY set): start, or
# install, what the live tests use — ffmpeg, Redis on 127.0.0.1:6379 and
# PostgreSQL on 127.0.0.1:5432 — and export MVIDARR_TEST_POSTGRES_URL.

need() { command -v "$1" >/dev/null || apt_install "$2" || die "$1 is missing and could not be installed"; }
need ffmpeg ffmpeg
need ffprobe ffmpeg

# Redis on 127.0.0.1:6379 (nothing kept on disk).
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  need redis-server redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/mvidarr-test-redis.log
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

# PostgreSQL on 127.0.0.1:5432; a cluster we install gets a password for the
# postgres role, since Debian's default refuses password-less TCP logins.
export MVIDARR_TEST_POSTGRES_URL=${MVIDARR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
pg_ok() { "$PY" -c "import psycopg,sys; psycopg.connect(sys.argv[1] + '/postgres', connect_timeout=3).close()" "$MVIDARR_TEST_POSTGRES_URL" 2>/dev/null; }
if ! pg_ok; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql || die "PostgreSQL could not be installed"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
  if ! pg_ok; then
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'mvidarr-test'\"" >/dev/null
    export MVIDARR_TEST_POSTGRES_URL=postgres://postgres:mvidarr-test@127.0.0.1:5432
  fi
  pg_ok || die "PostgreSQL is not reachable at $MVIDARR_TEST_POSTGRES_URL"
fi
