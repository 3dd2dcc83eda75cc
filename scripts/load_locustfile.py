"""The load test's locust users (run by scripts/load_test.py, one locust process per phase).

The plan comes as JSON in the file ``LOAD_TEST_PLAN`` names: the map requests, list pages and
employer pages to choose from (phase ``browse``), or the name prefix and number of the
businesses (phase ``questionnaire``). Only the user class of the phase is given to locust.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

from locust import HttpUser, between, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_flows import FlowError, client_address, is_loopback, submit_questionnaire

#: Picks which request a visitor makes next: load, not secrets.
CHOICE = random.Random()  # noqa: S311

PLAN = json.loads(Path(os.environ["LOAD_TEST_PLAN"]).read_text(encoding="utf-8"))


@events.test_start.add_listener
def refuse_other_hosts(environment, **_kwargs):
    """Stop at once unless the host is loopback."""
    if not is_loopback(environment.host or ""):
        raise SystemExit(f"refusing a host other than loopback: {environment.host}")


@events.quitting.add_listener
def report_errors(environment, **_kwargs):
    """Say on stderr what failed (the JSON statistics only count it)."""
    for error in environment.runner.stats.errors.values():
        print(
            f"FAILED {error.occurrences}x {error.method} {error.name}: {error.error}",
            file=sys.stderr,
        )
    for exception in environment.runner.exceptions.values():
        print(f"ERROR {exception['count']}x {exception['msg']}", file=sys.stderr)


class Visitor(HttpUser):
    """Someone looking for an employer: moves the map, reads the list, opens employers
    (a pause of 1 to 3 s between requests, as a person reads)."""

    wait_time = between(1, 3)
    count = 0

    def on_start(self):
        """An address of its own (see ``load_flows.CLIENT_NETWORK``)."""
        self.client.headers["X-Forwarded-For"] = client_address(0, Visitor.count)
        Visitor.count += 1

    @task(6)
    def map_view(self):
        """The map's request for a viewport (bbox, zoom, filters)."""
        self.client.get(CHOICE.choice(PLAN["map"]), name="map /api/employers")

    @task(2)
    def list_page(self):
        """The list of employers (the map page's accessible list, with filters or a page)."""
        self.client.get(CHOICE.choice(PLAN["list"]), name="list /")

    @task(2)
    def employer_page(self):
        """An existing employer's page."""
        self.client.get(
            f"/arbeitgeber/{CHOICE.choice(PLAN['detail'])}", name="detail /arbeitgeber/…"
        )


class Business(HttpUser):
    """A business filling in the questionnaire once under a name of its own, then leaving;
    the last one to finish ends the run."""

    wait_time = between(0, 0)
    started = 0
    finished = 0
    count = 0

    def on_start(self):
        """An address of its own (see ``load_flows.CLIENT_NETWORK``)."""
        self.client.headers["X-Forwarded-For"] = client_address(1, Business.count)
        Business.count += 1

    @task
    def submit(self):
        """The whole questionnaire, once; a step that goes wrong is a failed request."""
        Business.started += 1
        name = f"{PLAN['prefix']} {Business.started:02d}"
        began = time.perf_counter()
        failure = None
        try:
            submit_questionnaire(self.client, name)
        except FlowError as error:
            failure = error
        events.request.fire(
            request_type="FLOW",
            name="questionnaire: whole",
            response_time=(time.perf_counter() - began) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )
        Business.finished += 1
        if Business.finished >= PLAN["users"]:
            self.environment.runner.quit()
        raise StopUser()
