"""Locust user for the journey load test (driven by bench/journey_load.py; loopback only).

`JourneyUser` is a new claimant on a phone, from the landing page to a submitted claim through the real pages:
landing, eligibility (one service; individual or business), sign-up, the link in the verification mail (read from
the folder the site's mail is written to, BENCH_EMAIL_FILE_PATH), profile, consents, the power of attorney, the
claim with one loss item of the operator's mix, a phone screenshot and a 12-megapixel photo (BENCH_SCREENSHOT,
BENCH_PHOTO, drawn once by the driver), review and submit.

With BENCH_SANDBOXES=1 (the site runs the identity and payment sandboxes, bench/settings.py) the power of attorney
is signed with a certificate, which is the identity check too: the certified form's request, the "approve on your
phone" page, the sandbox's phone (its list of waiting requests, found by the number's last digits, then 승인 posted
as static/js/sandbox-phone.js posts it), the waiting page's poll at its own interval until the request is answered
(at most POLLS_MAX polls) and its 확인 form; then the retainer: the payment step's form, the sandbox's payment window
(결제하기) and the return to the site. Without it (production's defaults: no identity provider, no gateway) the
power of attorney is signed with the typed name and there is no payment step.

Redirects are followed one by one, so every page and every form POST is timed on its own. Each journey also asks
once for the no-I/O view (`/bench/trivial`), the reference measured under the same load. Every response time is
written to BENCH_TIMINGS (JSON lines per locust process) when locust quits. BENCH_JOURNEYS stops each user once that
many journeys were started in all (locust runs in one process here). With BENCH_PACING each user starts a journey
every that many seconds (or at once when the last took longer): the driver sets it, and the users' spawn rate, so
that journeys start at a given rate, as claimants arrive, instead of as fast as the machine allows.
"""

import contextlib
import email
import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import gevent
from locust import HttpUser, constant, constant_pacing, events, task
from locust.exception import StopUser

from bench.journey_pages import FlowError, Forms, IdentityWait, path_name, sandbox_phone_link

MAIL_FOLDER = Path(os.environ.get("BENCH_EMAIL_FILE_PATH", "."))
SCREENSHOT = Path(os.environ["BENCH_SCREENSHOT"]).read_bytes() if os.environ.get("BENCH_SCREENSHOT") else b""
PHOTO = Path(os.environ["BENCH_PHOTO"]).read_bytes() if os.environ.get("BENCH_PHOTO") else b""
JOURNEYS = int(os.environ.get("BENCH_JOURNEYS", "0"))  # 0: until locust's run time ends
PACING = float(os.environ.get("BENCH_PACING") or 0)  # seconds from one journey's start to the user's next; 0: at once
SANDBOXES = os.environ.get("BENCH_SANDBOXES") == "1"
POLLS_MAX = 20  # the waiting page's polls before the journey gives up (a minute at its 3 s interval)
RUN = os.environ.get("BENCH_RUN", str(int(time.time())))
PASSWORD = "bench-journey-claimant-2022!"  # noqa: S105 - synthetic accounts in the benchmark database only
STARTED = itertools.count()
FINISHED = itertools.count(1)
TIMINGS: list[tuple[str, str, float, bool, float]] = []  # type, name, ms, ok, when it ended
MAIL_SEEN: dict[str, str] = {}  # address -> verification link, from the mail files read so far
MAIL_READ: dict[str, int] = {}  # file name -> size when read (a file may be read while it is written)
# The operator's mix (DAMAGE_MODEL.md, devtools/generator.py): 89.6 % individuals, 10.2 % small businesses.
BUSINESS_SHARE = 0.102
EXPENSES = ("다른 방법으로 연락하느라 든 문자·전화 요금", "택시 호출이 안 되어 다른 교통편을 이용한 추가 요금")
SECTORS = ("개인택시", "대리운전", "미용실", "온라인 쇼핑몰", "음식점")
LINK = re.compile(r"https?://[^/\s]+(/accounts/verify-email/\S+/)")
CLAIM = re.compile(r"/claims/(\d+)/")
SERVICE_PAGE = re.compile(r'href="(/claims/\d+/wizard/losses/[a-z0-9-]+/)"')


@events.request.add_listener
def _timed(request_type, name, response_time, response_length, exception=None, **kwargs):
    TIMINGS.append((request_type, name, response_time, exception is None, time.time()))


@events.quitting.add_listener
def _write_timings(environment, **kwargs):
    if os.environ.get("BENCH_TIMINGS"):
        with open(os.environ["BENCH_TIMINGS"], "w", encoding="utf-8") as handle:
            for row in TIMINGS:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _verification_link(address: str) -> str | None:
    """The link in the verification mail to `address`, if it has been written (each file read once)."""
    if address in MAIL_SEEN:
        return MAIL_SEEN.pop(address)
    with contextlib.suppress(FileNotFoundError):
        for path in sorted(MAIL_FOLDER.iterdir()):
            size = path.stat().st_size
            if MAIL_READ.get(path.name) == size:
                continue
            MAIL_READ[path.name] = size
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw)
                parts = message.walk() if message.is_multipart() else [message]
                for part in parts:
                    if part.get_content_type() != "text/plain":
                        continue
                    body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
                    if match := LINK.search(body):
                        MAIL_SEEN[email.utils.parseaddr(message["To"])[1].lower()] = match.group(1)
    return MAIL_SEEN.pop(address, None)


class JourneyUser(HttpUser):
    wait_time = constant_pacing(PACING) if PACING else constant(0)

    @task
    def journey(self) -> None:
        number = next(STARTED)
        if JOURNEYS and number >= JOURNEYS:
            raise StopUser
        self.client.cookies.clear()
        self.client.headers["X-Forwarded-For"] = f"2001:db8:10ad:{RUN[-4:]}::{number + 1:x}"
        self.address = f"journey-{RUN}-{number}@example.org"
        self.business = random.random() < BUSINESS_SHARE
        # The last four digits tell this claimant's request apart on the sandbox phone's list (as a person finds
        # theirs): unique among the journeys running at once.
        self.phone = f"010{random.randint(1000, 9999)}{number % 10_000:04d}"
        events.request.fire(
            request_type="JOURNEY", name="started", response_time=0, response_length=0, exception=None, context={}
        )
        try:
            self._journey()
        except FlowError as error:
            self._record(error, number)
        else:
            with contextlib.suppress(FlowError):
                self._request("GET", "/bench/trivial", name="/bench/trivial")
            events.request.fire(
                request_type="JOURNEY", name="completed", response_time=0, response_length=0, exception=None, context={}
            )
        if JOURNEYS and next(FINISHED) >= JOURNEYS:  # the last journey ended: stop now, not at the run time
            gevent.spawn(self.environment.runner.quit)

    def _record(self, error: FlowError, number: int) -> None:
        """A step that did not lead where a browser goes next (a failed request is already recorded)."""
        if not getattr(error, "recorded", False):
            events.request.fire(
                request_type="FLOW",
                name="journey step",
                response_time=0,
                response_length=0,
                exception=error,
                context={},
            )
        if os.environ.get("BENCH_DEBUG_FOLDER"):
            Path(os.environ["BENCH_DEBUG_FOLDER"], f"failed-{number}.html").write_text(getattr(self, "last_html", ""))

    # --- requests ---------------------------------------------------------------------------------------------

    def _request(self, method, url, *, name=None, data=None, files=None, json_answer=False, renamed=None):
        """One request, not following redirects: a page answers 200 or 302, a form POST 302, and a request made
        by a page's script (`json_answer`: Accept: application/json) 200. `renamed(response)` may give the name
        the request is counted under once its answer is known."""
        headers = {"Referer": self.host + url} if method == "POST" else {}
        if json_answer:
            headers["Accept"] = "application/json"
        expected = (200,) if json_answer else (302,) if method == "POST" else (200, 302)
        name = name or path_name(url)
        with self.client.request(
            method,
            url,
            data=data,
            files=files,
            name=name,
            allow_redirects=False,
            catch_response=True,
            headers=headers,
        ) as response:
            self.last_html = response.text
            if response.status_code not in expected:
                response.failure(f"{response.status_code} for {method} {name}")
                error = FlowError(url)
                error.recorded = True
                raise error
            if renamed is not None:
                response.request_meta["name"] = renamed(response)
            return response

    def _follow(self, response) -> tuple[str, str]:
        """Follow the redirects from `response` one by one; the final URL's path and HTML."""
        url = response.url
        while response.status_code == 302:
            url = response.headers["Location"]
            if url.startswith("http"):
                url = "/" + url.split("//", 1)[1].split("/", 1)[1]
            response = self._request("GET", url)
        return url, response.text

    def _get(self, url):
        return self._follow(self._request("GET", url))

    def _post(self, url, html, field, values, *, files=None, name=None):
        """Submit the form of `html` that has `field`, with the browser's untouched values and `values`."""
        forms = Forms(html)
        form = forms.posted_to(url) if field is None else forms.with_field(field)
        data = {**form["data"], **values}
        csrf = data.get("csrfmiddlewaretoken")
        if not csrf:
            raise FlowError("no CSRF token")
        action = form["action"] or url
        return self._follow(
            self._request("POST", action, data=data, files=files, name=name or f"{path_name(action)} POST")
        )

    # --- the journey ------------------------------------------------------------------------------------------

    def _journey(self) -> None:
        self._get("/")
        url, html = self._get("/claims/check/")
        windows = re.findall(r'name="windows" value="(\d+)"', html)
        if not windows:
            raise FlowError("no outage windows")
        values = {
            "windows": [random.choice(windows)],
            "was_using": "yes",
            "applicant_kind": "business" if self.business else "individual",
        }
        url, html = self._post(url, html, "was_using", values)
        if "/accounts/signup/" not in url:
            raise FlowError(f"eligibility led to {url}")
        birth = f"{random.randint(1950, 2002)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        url, html = self._post(
            url,
            html,
            "password1",
            {"email": self.address, "date_of_birth": birth, "password1": PASSWORD, "password2": PASSWORD},
        )
        link = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline:
            link = _verification_link(self.address)
            if link is None:
                gevent.sleep(0.5)
        if link is None:
            events.request.fire(
                request_type="MAIL",
                name="verification mail",
                response_time=120_000,
                response_length=0,
                exception=FlowError("no verification mail within 120 s"),
                context={},
            )
            raise FlowError("no mail")
        url, html = self._get(link)
        self.name = random.choice(("김", "이", "박", "최", "정")) + random.choice(("민지", "서준", "지우", "하은"))
        if "/accounts/profile/" in url:
            url, html = self._post(
                url,
                html,
                "legal_name",
                {
                    "legal_name": self.name,
                    "phone": self.phone,
                    "postal_code": "13487",
                    "address": "경기도 성남시 분당구 판교역로 166",
                    "address_detail": f"{random.randint(101, 1204)}호",
                },
            )
        if "/accounts/consents/" in url:
            consents = Forms(html).posted_to(url)
            url, html = self._post(url, html, None, dict.fromkeys(consents["checkboxes"], "on"))
        if "/accounts/power-of-attorney/" in url:
            if SANDBOXES:
                url, html = self._sign_with_certificate(url, html)
            else:
                url, html = self._post(
                    url, html, "typed_name", {"method": "typed", "typed_name": self.name, "confirm": "on"}
                )
        if SANDBOXES:
            if "/payments/retainer/" not in url:
                raise FlowError(f"signing led to {url}")
            url, html = self._pay_retainer(url, html)
        match = CLAIM.search(url)
        if not match:
            if "/claims/start/" not in url:
                raise FlowError(f"signing led to {url}")
            url, html = self._post(url, html, "windows", {})
            match = CLAIM.search(url)
            if not match:
                raise FlowError(f"start led to {url}")
        claim_id = match.group(1)
        base = f"/claims/{claim_id}/wizard"
        if self.business:
            if not url.endswith("/claimant/"):
                url, html = self._get(f"{base}/claimant/")
            url, html = self._post(
                url,
                html,
                "claimant_type",
                {
                    "claimant_type": "sole_proprietor",
                    "business_registration_number": _registration_number(),
                    "business_name": f"부하시험 {random.randint(1, 9999)}",
                    "business_sector": random.choice(SECTORS),
                },
            )
        url, html = self._get(f"{base}/losses/")
        for service_url in dict.fromkeys(SERVICE_PAGE.findall(html)):
            url, page = self._get(service_url)
            url, html = self._post(
                service_url, page, "form-TOTAL_FORMS", self._loss_item(), name=f"{path_name(service_url)} POST"
            )
        if not url.endswith("/losses/"):
            url, html = self._get(f"{base}/losses/")
        url, html = self._post(url, html, "already_compensated", {"already_compensated": "0"})
        if not url.endswith("/evidence/"):
            url, html = self._get(f"{base}/evidence/")
        for filename, content, mime in (
            ("screenshot.png", SCREENSHOT, "image/png"),
            ("photo.jpg", PHOTO, "image/jpeg"),
        ):
            url, html = self._post(
                url,
                html,
                "tag",
                {"tag": "proof_of_use", "loss_item": ""},
                files={"file": (filename, content, mime)},
                name=f"/claims/[id]/evidence/upload/ POST ({filename.split('.')[-1]})",
            )
        if not url.endswith("/evidence/"):
            url, html = self._get(f"{base}/evidence/")
        url, html = self._post(url, html, None, {}, name="/claims/[id]/wizard/evidence/ POST")
        if not url.endswith("/review/"):
            url, html = self._get(f"{base}/review/")
        url, html = self._post(url, html, None, {}, name="/claims/[id]/wizard/review/ POST")
        if not url.endswith(f"/claims/{claim_id}/submitted/"):
            events.request.fire(
                request_type="POST",
                name="/claims/[id]/wizard/review/ POST (not submitted)",
                response_time=0,
                response_length=0,
                exception=FlowError(f"submit led to {url}"),
                context={},
            )
            raise FlowError("not submitted")

    def _sign_with_certificate(self, url: str, html: str) -> tuple[str, str]:
        """The certified signature (the identity check too): send the request with one of the offered apps,
        approve it on the sandbox's phone, and let the waiting page poll until it goes on."""
        certified = Forms(html).with_field("certified_method")
        app = random.choice(certified["choices"].get("certified_method") or [""])
        url, html = self._post(
            url,
            html,
            "certified_method",
            {"certified_method": app, "certified": "1"},
            name="/accounts/power-of-attorney/ POST (certified)",
        )
        loaded = time.monotonic()
        waiting = IdentityWait(html)
        if "/accounts/identity/" not in url or not waiting.poll_url:
            raise FlowError(f"the certified signature led to {url}")
        wait_url, wait_html = url, html
        self._approve_on_the_phone()
        interval = waiting.interval_ms / 1000
        for _poll in range(POLLS_MAX):  # the page's script: a poll one interval after the page or the last poll
            gevent.sleep(max(0.0, interval - (time.monotonic() - loaded)))
            answered = self._request("GET", waiting.poll_url, json_answer=True, renamed=_signed_when_answered).json()
            loaded = time.monotonic()
            if not answered.get("pending", True):
                break
        else:
            raise FlowError(f"still waiting for the phone after {POLLS_MAX} polls")
        return self._post(wait_url, wait_html, None, {}, name=f"{path_name(wait_url)} POST")

    def _approve_on_the_phone(self) -> None:
        """The sandbox's phone: its list of waiting requests (the link on the waiting page), this claimant's
        request found by the number's last digits, and 승인 posted in the background as the page's script does."""
        _url, listing = self._get("/sandbox/identity/")
        link = sandbox_phone_link(listing, self.phone)
        _url, page = self._get(link)
        answer = Forms(page).posted_to(link)
        answered = self._request(
            "POST",
            link,
            data={**answer["data"], "decision": "approve"},
            name=f"{path_name(link)} POST (approve)",
            json_answer=True,
        ).json()
        if answered.get("problem") or answered.get("state") != "approved":
            raise FlowError(f"the phone did not approve: {answered}")

    def _pay_retainer(self, url: str, html: str) -> tuple[str, str]:
        """The retainer: a payment method on the site's page, then 결제하기 in the sandbox's payment window, which
        sends the browser back to the site."""
        pay = Forms(html).with_field("method")
        method = random.choice(pay["choices"].get("method") or [""])
        url, html = self._post(url, html, "method", {"method": method})
        if "/sandbox/payments/" not in url:
            raise FlowError(f"the retainer's 결제하기 led to {url}")
        url, html = self._post(url, html, "redirect_url", {"action": "pay"})
        if "/payments/retainer/" in url:
            raise FlowError("the payment was not confirmed")
        return url, html

    def _loss_item(self) -> dict:
        item = {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "20",
            "form-0-affected_hours": "",
        }
        if self.business:
            normal = random.randrange(300, 3000) * 1000
            item |= {
                "form-0-kind": "business_revenue",
                "form-0-comparison_revenue": f"{normal:,}",
                "form-0-outage_revenue": f"{int(normal * random.uniform(0.3, 0.9)) // 1000 * 1000:,}",
                "form-0-description": "장애가 난 주의 매출이 평소 주보다 줄었습니다.",
                "form-0-affected_hours": f"{random.randint(6, 127)}",
            }
        elif random.random() < 0.5:
            item |= {
                "form-0-kind": "subscription",
                "form-0-monthly_fee": random.choice(("39,000", "22,000", "10,900", "7,900", "3,900")),
                "form-0-description": "유료 서비스를 장애 동안 쓰지 못했습니다.",
            }
        else:
            item |= {
                "form-0-kind": "expense",
                "form-0-amount": f"{random.randrange(5, 300) * 1000:,}",
                "form-0-description": random.choice(EXPENSES),
            }
        return item


def _signed_when_answered(response) -> str:
    """The waiting page's poll is counted as signing once it answers that the request was approved: that poll
    verifies the certified signature and signs the power of attorney."""
    name = path_name(response.request.path_url)
    return name if response.json().get("pending", True) else f"{name} (signed)"


def _registration_number() -> str:
    """A sole proprietor's registration number with a valid check digit (as devtools/generator.py makes them)."""
    office, kind, serial = random.randrange(101, 700), random.randrange(1, 80), random.randrange(0, 10_000)
    digits = [int(char) for char in f"{office:03d}{kind:02d}{serial:04d}"]
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(d * w for d, w in zip(digits, weights, strict=True)) + digits[8] * 5 // 10
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)
