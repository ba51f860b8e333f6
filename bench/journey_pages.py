"""What the journey load test (bench/journey_locust.py) reads off the site's pages, as a claimant's browser does:
the forms and the values a browser sends untouched, the links, and the waiting page's poll. No locust import here
(locust patches the standard library with gevent when imported), so config/tests/test_bench_journey.py tests it.
"""

import re
from html.parser import HTMLParser

IDENTITY_PHONE_LINK = re.compile(r"^/sandbox/identity/[0-9a-f]+/$")


class FlowError(Exception):
    """The page did not do what a claimant's browser expects."""


class Forms(HTMLParser):
    """The forms of a page: each form's action and the values a browser would send untouched (hidden fields, text
    with a value, checked boxes, selected options); `checkboxes` lists each form's checkbox names and `choices` each
    radio group's values."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "data": {}, "checkboxes": [], "choices": {}, "names": set()}
            )
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
            if kind == "radio":
                form["choices"].setdefault(name, []).append(a.get("value", "on"))
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


class Links(HTMLParser):
    """The links of a page: (href, the text inside the link with its whitespace collapsed)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append((dict(attrs).get("href") or "", []))

    def handle_data(self, data):
        for _href, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join("".join(text).split())))


class IdentityWait(HTMLParser):
    """The "approve on your phone" page's poll, as static/js/identity-wait.js reads it: the element marked
    `data-identity-wait` holds the poll URL and the interval in milliseconds (3000 when it gives none)."""

    DEFAULT_INTERVAL_MS = 3000

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.poll_url = ""
        self.interval_ms = self.DEFAULT_INTERVAL_MS
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-identity-wait" in a:
            self.poll_url = a.get("data-poll-url") or ""
            if (a.get("data-interval") or "").isdigit() and int(a["data-interval"]) > 0:
                self.interval_ms = int(a["data-interval"])


def phone_masked(phone: str) -> str:
    """The number as the sandbox's list of waiting requests shows it (core.phones.phone_number_masked)."""
    return f"{phone[:3]}-****-{phone[-4:]}"


def sandbox_phone_link(html: str, phone: str) -> str:
    """On the sandbox's list of waiting requests (newest first), the newest request sent to `phone`: what the person
    finds by the last digits of their number."""
    masked = phone_masked(phone)
    for href, text in Links(html).links:
        if IDENTITY_PHONE_LINK.match(href) and masked in text:
            return href
    raise FlowError(f"no waiting request for {masked}")


def path_name(path: str) -> str:
    """The request's name in the figures: the path without host and query, ids and tokens replaced."""
    path = path.split("?", 1)[0]
    if path.startswith("http"):
        path = "/" + path.split("//", 1)[1].split("/", 1)[1]
    path = re.sub(r"/verify-email/[^/]+/", "/verify-email/[token]/", path)
    path = re.sub(r"^/sandbox/(identity|payments)/[^/]+/", r"/sandbox/\1/[id]/", path)
    return re.sub(r"/\d+/", "/[id]/", path)
