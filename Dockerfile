# One image for every MVidarr process: the web server (the default command),
# `worker` and `scheduler`, the same commands as in the README.
#
#   docker build -t mvidarr .
#   docker run -p 8000:8000 -v mvidarr-data:/data mvidarr    # embedded mode, one container
#
# compose.yaml runs it in scaled mode with Redis and PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MVIDARR_DATA_DIR=/data

# ffmpeg and ffprobe: every download is probed, and processed when its profile asks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

# The code stays root's, read-only to the app; the data dir is the app's alone.
RUN useradd --system --user-group --uid 10001 --home-dir /data --no-create-home mvidarr \
 && mkdir -p /data \
 && chown mvidarr:mvidarr /data \
 && chmod 700 /data
USER mvidarr
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-m", "mvidarr.healthcheck", "web", "--url", "http://127.0.0.1:8000/api/health"]

ENTRYPOINT ["python", "manage.py"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
