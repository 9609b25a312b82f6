"""The JSON API fuzzed from its own OpenAPI schema (schemathesis): whatever an
authenticated client sends, the answer is never a 5xx."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.live import PASSWORD, LiveApp

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

# Examples per operation and mode (valid and invalid input): enough to hit huge
# numbers, odd strings and missing fields on each of the ~25 operations, small
# enough for the whole run to finish in a minute or two.
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_app():
    # Private URLs refused, so fuzzed URLs rarely become real jobs; downloads paused.
    with LiveApp("embedded", extra_env={"MVIDARR_ALLOW_PRIVATE_URLS": "false"}) as app:
        with app.client("staff") as staff:
            assert staff.post("/api/queue/pause").status_code == 200
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    """The schema as served at /api/openapi.json (which needs a logged-in session)."""
    with httpx.Client(base_url=fuzz_app.base_url, timeout=10) as web:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/login/").text)
        login = {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        assert web.post("/login/", data=login).status_code == 302
        document = web.get("/api/openapi.json").raise_for_status().json()
    return schemathesis.openapi.from_dict(document)


def fuzz(operation, mode, app) -> list[str]:
    """Run ``EXAMPLES`` generated requests for one operation; the 5xx answers."""
    failures: list[str] = []
    headers = {"X-Api-Key": app.keys["alice"]}

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(base_url=app.base_url, headers=headers, timeout=20)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.300}"
                f" -> {response.status_code}"
            )

    try:
        run()
    except Unsatisfiable:  # nothing invalid to send (an operation without input)
        assert mode == GenerationMode.NEGATIVE
    return failures


def test_the_api_never_answers_a_5xx(api_schema, fuzz_app):
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, mode, fuzz_app)
    assert failures == [], "\n".join(failures[:20]) + "\n" + fuzz_app.log("serve")[-3000:]
