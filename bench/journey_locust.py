"""Locust user for the journey load test (driven by bench/journey_load.py; loopback only).

`JourneyUser` is a new claimant on a phone, from the landing page to a submitted claim through the real pages:
landing, eligibility (one service; individual or business), sign-up, the link in the verification mail (read from
the folder the site's mail is written to, BENCH_EMAIL_FILE_PATH), profile, consents, the power of attorney (typed
name: production settings without an identity provider), the claim with one loss item of the operator's mix, a
phone screenshot and a 12-megapixel photo (BENCH_SCREENSHOT, BENCH_PHOTO, drawn once by the driver), review and
submit. Redirects are followed one by one, so every page and every form POST is timed on its own. Each journey also
asks once for the no-I/O view (`/bench/trivial`), the reference measured under the same load. Every response time
is written to BENCH_TIMINGS (JSON lines per locust process) when locust quits. BENCH_JOURNEYS stops each user once
that many journeys were started in all (locust runs in one process here).
"""

import contextlib
import email
import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import gevent
from locust import HttpUser, constant, events, task
from locust.exception import StopUser

MAIL_FOLDER = Path(os.environ.get("BENCH_EMAIL_FILE_PATH", "."))
SCREENSHOT = Path(os.environ["BENCH_SCREENSHOT"]).read_bytes() if os.environ.get("BENCH_SCREENSHOT") else b""
PHOTO = Path(os.environ["BENCH_PHOTO"]).read_bytes() if os.environ.get("BENCH_PHOTO") else b""
JOURNEYS = int(os.environ.get("BENCH_JOURNEYS", "0"))  # 0: until locust's run time ends
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


class FlowError(Exception):
    """The page did not do what a claimant's browser expects (already recorded as a failure)."""


class Forms(HTMLParser):
    """The forms of a page: each form's action and the values a browser would send untouched (hidden fields, text
    with a value, checked boxes, selected options); `checkboxes` lists each form's checkbox names."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "data": {}, "checkboxes": [], "names": set()})
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if name:
            form["names"].add(name)
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                form["checkboxes"].append(name)
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["data"].setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                form["data"][name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            form["data"][self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            form["data"][name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None

    def posted_to(self, url: str) -> dict:
        """The form that posts back to the page (no action, or the page's own path)."""
        for form in self.forms:
            if form["action"] in ("", url.split("?", 1)[0]):
                return form
        raise FlowError(f"no form posting to {url}")

    def with_field(self, field: str) -> dict:
        for form in self.forms:
            if field in form["names"]:
                return form
        raise FlowError(f"no form with {field}")


@events.request.add_listener
def _timed(request_type, name, response_time, response_length, exception=None, **kwargs):
    TIMINGS.append((request_type, name, response_time, exception is None, time.time()))


@events.quitting.add_listener
def _write_timings(environment, **kwargs):
    if os.environ.get("BENCH_TIMINGS"):
        with open(os.environ["BENCH_TIMINGS"], "w", encoding="utf-8") as handle:
            for row in TIMINGS:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _path_name(path: str) -> str:
    path = path.split("?", 1)[0]
    if path.startswith("http"):
        path = "/" + path.split("//", 1)[1].split("/", 1)[1]
    path = re.sub(r"/verify-email/[^/]+/", "/verify-email/[token]/", path)
    return re.sub(r"/\d+/", "/[id]/", path)


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
    wait_time = constant(0)

    @task
    def journey(self) -> None:
        number = next(STARTED)
        if JOURNEYS and number >= JOURNEYS:
            raise StopUser
        self.client.cookies.clear()
        self.client.headers["X-Forwarded-For"] = f"2001:db8:10ad:{RUN[-4:]}::{number + 1:x}"
        self.address = f"journey-{RUN}-{number}@example.org"
        self.business = random.random() < BUSINESS_SHARE
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

    def _request(self, method, url, *, name=None, data=None, files=None):
        with self.client.request(
            method,
            url,
            data=data,
            files=files,
            name=name or _path_name(url),
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + url} if method == "POST" else None,
        ) as response:
            if response.status_code not in (200, 302) or (method == "POST" and response.status_code != 302):
                response.failure(f"{response.status_code} for {method} {name or _path_name(url)}")
                self.last_html = response.text
                error = FlowError(url)
                error.recorded = True
                raise error
            self.last_html = response.text
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
            self._request("POST", action, data=data, files=files, name=name or f"{_path_name(action)} POST")
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
                    "phone": f"010{random.randint(10_000_000, 99_999_999)}",
                    "postal_code": "13487",
                    "address": "경기도 성남시 분당구 판교역로 166",
                    "address_detail": f"{random.randint(101, 1204)}호",
                },
            )
        if "/accounts/consents/" in url:
            consents = Forms(html).posted_to(url)
            url, html = self._post(url, html, None, dict.fromkeys(consents["checkboxes"], "on"))
        if "/accounts/power-of-attorney/" in url:
            url, html = self._post(
                url, html, "typed_name", {"method": "typed", "typed_name": self.name, "confirm": "on"}
            )
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
                service_url, page, "form-TOTAL_FORMS", self._loss_item(), name=f"{_path_name(service_url)} POST"
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


def _registration_number() -> str:
    """A sole proprietor's registration number with a valid check digit (as devtools/generator.py makes them)."""
    office, kind, serial = random.randrange(101, 700), random.randrange(1, 80), random.randrange(0, 10_000)
    digits = [int(char) for char in f"{office:03d}{kind:02d}{serial:04d}"]
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(d * w for d, w in zip(digits, weights, strict=True)) + digits[8] * 5 // 10
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)
