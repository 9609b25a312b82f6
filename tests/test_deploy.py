"""The container files. There is no container runtime here, so what can be
proven is proven outside one: compose.yaml holds no default secret and
refuses to start without each, and the Dockerfile's commands (serve, worker,
scheduler and the health checks) run as the containers would, with compose's
environment, against local Redis and PostgreSQL, and come up healthy.
(``scripts/lint.sh`` validates compose.yaml against the compose schema.)"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from tests.apikit import METRICS_TOKEN, scrape, wait_for
from tests.live import REPO, LiveApp

REQUIRED = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "SECRET_KEY")
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "REDIS_PASSWORD": "redis-secret",
    "SECRET_KEY": "deploy-test-secret-key-" + "x" * 40,
    "MVIDARR_METRICS_TOKEN": METRICS_TOKEN,
}
# compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?error}, ${VAR?error}
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


class Refused(Exception):
    """What compose says when a required variable is missing."""


def interpolate(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1) or match.group(4), match.group(2), match.group(3)
        unset = name not in env or (op and op.startswith(":") and not env[name])
        if op in (":?", "?") and unset:
            raise Refused(f"{name}: {arg}")
        if op in (":-", "-") and unset:
            return arg
        return env.get(name, "")

    return VARIABLE.sub(substitute, node)


def compose_file(env: dict[str, str]) -> dict:
    return interpolate(yaml.safe_load((REPO / "compose.yaml").read_text()), env)


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def dockerfile() -> dict[str, str]:
    """The image's instructions, continuation lines joined (the last of each kind)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return dict(line.split(None, 1) for line in lines if line and not line.startswith("#"))


def test_compose_refuses_to_start_without_each_required_secret():
    compose_file(SECRETS)  # all set: it starts
    for name in REQUIRED:
        for env in ({k: v for k, v in SECRETS.items() if k != name}, {**SECRETS, name: ""}):
            with pytest.raises(Refused, match=f"{name}: set {name} in .env"):
                compose_file(env)


def test_the_env_example_documents_every_variable_and_ships_no_secret():
    referenced = {
        m.group(1) or m.group(4) for m in VARIABLE.finditer((REPO / "compose.yaml").read_text())
    }
    example = env_example()
    assert referenced - {None} == set(example)
    assert all(example[name] == "" for name in (*REQUIRED, "MVIDARR_METRICS_TOKEN"))
    assert ".env" in (REPO / ".dockerignore").read_text().split()
    assert ".env" in (REPO / ".gitignore").read_text().split()


@pytest.mark.live
def test_the_images_commands_come_up_healthy_with_the_compose_environment():
    image = dockerfile()
    assert json.loads(image["ENTRYPOINT"]) == ["python", "manage.py"]
    assert image["USER"] != "root"
    port = image["EXPOSE"]
    web_check = json.loads(image["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert "/api/health" in " ".join(web_check)
    image_env = dict(pair.split("=", 1) for pair in shlex.split(image["ENV"]))

    services = compose_file(SECRETS)["services"]
    assert services["web"]["command"] == json.loads(image["CMD"])  # the image's own command
    env = services["web"]["environment"]
    assert all(services[name]["environment"] == env for name in ("worker", "scheduler"))
    # compose's URLs name its own services; here the same services run locally.
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres" and "postgres" in services
    assert urlsplit(env["REDIS_URL"]).hostname == "redis" and "redis" in services

    app = LiveApp("redis")  # a Redis and a PostgreSQL database, a data dir and a port of its own
    app.env.update(image_env)
    app.env.update({k: v for k, v in env.items() if k not in ("DATABASE_URL", "REDIS_URL")})
    app.env["MVIDARR_DATA_DIR"] = str(app.data_dir)  # the volume

    def here(argv: list[str]) -> list[str]:
        """A command as the container runs it: the image's python, the port published."""
        argv = [a for a in argv if a != "CMD"]
        argv = [sys.executable if a == "python" else a for a in argv]
        return [
            str(app.port) if a == port else a.replace(f":{port}/", f":{app.port}/") for a in argv
        ]

    def healthy(check: list[str]) -> bool:
        run = subprocess.run(here(check), cwd=REPO, env=app.env, capture_output=True, timeout=60)
        return run.returncode == 0

    checks = {name: services[name].get("healthcheck", {}).get("test") for name in services}
    try:
        app.start_process("web", *here(services["web"]["command"]))  # it applies the migrations
        wait_for(lambda: healthy(web_check), timeout=60, interval=0.5)
        assert not healthy(checks["worker"])  # no worker yet: the check is not vacuous
        for name in ("worker", "scheduler"):
            app.start_process(name, *here(services[name]["command"]))
        for name in ("worker", "scheduler"):
            wait_for(lambda name=name: healthy(checks[name]), timeout=60, interval=0.5)
        assert scrape(app)["mvidarr_workers_alive", ()] == 1
        for name in ("web", "worker", "scheduler"):  # compose asks for JSON logs
            for line in app.log(name, tail=None).splitlines():
                assert json.loads(line)["level"]
    finally:
        app.stop()
