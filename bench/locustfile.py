"""Locust users for the intake load test (driven by bench/intake_load.py; loopback only).

`ClaimantUser` is a claimant on a phone filing a claim from start to finish through the real pages: log in with
the real form, the eligibility step, claimant type, one loss item per chosen service, the operator's
compensation, an evidence picture for about half of them, review and submit, log out; then the next prepared
account. A page that does not lead where a claimant's browser would go next counts as a failed request.
`TrivialUser` asks for the no-I/O view, the framework's ceiling on the same server; `SignedInTrivialUser` logs in
once and then asks for the same view, so every request also reads the session and the user, as every claimant
page must.

Configured by the environment: BENCH_ACCOUNTS (a JSON file with the prepared claimants' emails) and
BENCH_ACCOUNT_RANGE ("first:last", the slice of them this run may use: each run has accounts of its own, so no
claimant starts a claim they already filed in an earlier run), BENCH_PASSWORD, BENCH_INCIDENT (slug),
BENCH_THINK ("0" for none, or "min,max" seconds between pages).
"""

import contextlib
import itertools
import json
import os
import random
import re

import gevent
from locust import HttpUser, constant, task
from locust.exception import StopUser

from devtools.synthetic_files import synthetic_png

ACCOUNTS: list[str] = []
FIRST_ACCOUNT, _, LAST_ACCOUNT = os.environ.get("BENCH_ACCOUNT_RANGE", "0:").partition(":")
if os.environ.get("BENCH_ACCOUNTS"):
    with open(os.environ["BENCH_ACCOUNTS"], encoding="utf-8") as handle:
        ACCOUNTS = json.load(handle)[int(FIRST_ACCOUNT) : int(LAST_ACCOUNT) if LAST_ACCOUNT else None]
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
INCIDENT = os.environ.get("BENCH_INCIDENT", "pangyo-dc-fire-2022")
THINK = tuple(float(part) for part in os.environ.get("BENCH_THINK", "0").split(","))
NEXT_ACCOUNT = itertools.count()

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WINDOW = re.compile(r'name="windows" value="(\d+)"')
CLAIM_PAGE = re.compile(r"/claims/(\d+)/wizard/claimant/$")
SERVICE_PAGE = re.compile(r'href="(/claims/\d+/wizard/losses/[a-z0-9-]+/)"')
EXPENSES = ("다른 방법으로 연락하느라 든 문자·전화 요금", "택시 호출이 안 되어 다른 교통편을 이용한 추가 요금")


class FlowError(Exception):
    """The page did not do what a claimant's browser expects (already recorded as a failure)."""


class SignedInUser(HttpUser):
    """A claimant's browser: logs in with the next prepared account when it starts; pages and form posts."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self._login_next()

    def _think(self) -> None:
        if len(THINK) == 2:
            gevent.sleep(random.uniform(*THINK))

    def _page(self, url: str, name: str) -> str:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {name}")
                raise FlowError(name)
            return response.text

    def _post(self, url: str, data: dict, name: str, *, token: str, files: dict | None = None, expect: str = "") -> str:
        """A form POST that must redirect (the Post/Redirect/Get every step uses), to a Location matching the
        pattern `expect` when one is given; returns the Location."""
        with self.client.post(
            url,
            data={**data, "csrfmiddlewaretoken": token},
            files=files,
            name=name,
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + url},
        ) as response:
            if response.status_code != 302:
                response.failure(f"{response.status_code} (no redirect) for {name}")
                raise FlowError(name)
            location = response.headers["Location"]
            if expect and not re.search(expect, location):
                response.failure(f"{name} led to {location}, not {expect}")
                raise FlowError(name)
            return location

    @staticmethod
    def _token(html: str) -> str:
        match = CSRF.search(html)
        if not match:
            raise FlowError("no CSRF token")
        return match.group(1)

    def _login_next(self) -> None:
        number = next(NEXT_ACCOUNT)
        if number >= len(ACCOUNTS):
            raise StopUser  # every prepared claimant has filed
        self.email = ACCOUNTS[number]
        self.client.cookies.clear()
        # Every claimant comes from their own address, as the proxy in front reports it (X-Forwarded-For).
        self.client.headers["X-Forwarded-For"] = f"2001:db8:10ad::{int(FIRST_ACCOUNT) + number + 1:x}"
        html = self._page("/accounts/login/", "/accounts/login/")
        self._post(
            "/accounts/login/",
            {"username": self.email, "password": PASSWORD},
            "/accounts/login/ POST",
            token=self._token(html),
            expect=r"^/$|^/claims/",
        )


class ClaimantUser(SignedInUser):
    @task
    def file_a_claim(self) -> None:
        with contextlib.suppress(FlowError):  # the failed request is already in the statistics
            self._file_claim()
        self._think()
        with contextlib.suppress(FlowError):
            html = self._page("/", "/")
            self._post("/accounts/logout/", {}, "/accounts/logout/ POST", token=self._token(html))
        self._login_next()

    def _file_claim(self) -> None:
        start = f"/claims/start/?incident={INCIDENT}"
        html = self._page(start, "/claims/start/")
        windows = WINDOW.findall(html)
        chosen = random.sample(windows, k=min(len(windows), random.choice((1, 1, 2))))
        self._think()
        location = self._post(
            start,
            {"windows": chosen, "was_using": "yes"},
            "/claims/start/ POST",
            token=self._token(html),
            expect=CLAIM_PAGE.pattern,
        )
        match = CLAIM_PAGE.search(location)
        base = f"/claims/{match.group(1)}/wizard"
        html = self._page(f"{base}/claimant/", "/claims/[id]/wizard/claimant/")
        self._think()
        self._post(
            f"{base}/claimant/",
            {"claimant_type": "individual"},
            "/claims/[id]/wizard/claimant/ POST",
            token=self._token(html),
        )
        html = self._page(f"{base}/losses/", "/claims/[id]/wizard/losses/")
        for service_url in dict.fromkeys(SERVICE_PAGE.findall(html)):
            page = self._page(service_url, "/claims/[id]/wizard/losses/[service]/")
            self._think()
            item = {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "0",
                "form-MIN_NUM_FORMS": "0",
                "form-MAX_NUM_FORMS": "20",
                "form-0-kind": "expense",
                "form-0-amount": f"{random.randrange(5, 300) * 1000:,}",
                "form-0-description": random.choice(EXPENSES),
                "form-0-affected_hours": "",
            }
            self._post(service_url, item, "/claims/[id]/wizard/losses/[service]/ POST", token=self._token(page))
        html = self._page(f"{base}/losses/", "/claims/[id]/wizard/losses/")
        self._think()
        self._post(
            f"{base}/losses/", {"already_compensated": "0"}, "/claims/[id]/wizard/losses/ POST", token=self._token(html)
        )
        html = self._page(f"{base}/evidence/", "/claims/[id]/wizard/evidence/")
        claim_id = match.group(1)
        if random.random() < 0.5:
            picture = synthetic_png(f"load:{self.email}")
            self._think()
            self._post(
                f"/claims/{claim_id}/evidence/upload/",
                {"tag": "proof_of_use", "loss_item": ""},
                "/claims/[id]/evidence/upload/ POST",
                token=self._token(html),
                files={"file": ("screenshot.png", picture.content, "image/png")},
            )
            html = self._page(f"{base}/evidence/", "/claims/[id]/wizard/evidence/")
        self._post(f"{base}/evidence/", {}, "/claims/[id]/wizard/evidence/ POST", token=self._token(html))
        html = self._page(f"{base}/review/", "/claims/[id]/wizard/review/")
        self._think()
        location = self._post(
            f"{base}/review/",
            {},
            "/claims/[id]/wizard/review/ POST",
            token=self._token(html),
            expect=f"/claims/{claim_id}/submitted/$",
        )
        self._page(location, "/claims/[id]/submitted/")


class TrivialUser(HttpUser):
    wait_time = constant(0)

    @task
    def trivial(self) -> None:
        self.client.get("/bench/trivial", name="/bench/trivial")


class SignedInTrivialUser(SignedInUser):
    """Logs in once with a prepared account, then asks for the no-I/O view: what a signed-in request costs before
    its view does anything (the session and the user are read by the middleware on every request)."""

    @task
    def trivial(self) -> None:
        self.client.get("/bench/trivial", name="/bench/trivial (signed in)")
