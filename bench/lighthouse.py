"""`python -m bench.lighthouse` (or `make lighthouse`): Lighthouse's mobile audit of the claimant pages, served as
production serves them (gunicorn, the production settings, WhiteNoise for the static files), in Debian's Chromium.

It works in its own PostgreSQL database (LIGHTHOUSE_DATABASE_URL, default kakao_claims_lighthouse_bench, dropped,
created and migrated; the name must contain "bench") and Redis database (LIGHTHOUSE_REDIS_URL, default db 14).
The pages behind the login are audited with the session cookie of a claimant made for the run (a draft claim on
Kakao T), sent by Lighthouse as a header. It prints a table and writes var/lighthouse/results.json: per page, the
four scores and the audits that cost points; the exit status is 1 when a score misses its target.

    python -m bench.lighthouse                       # every page
    python -m bench.lighthouse --only / /claims/check/ --reuse
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.processes import process_stop
from bench.run import BASE_DIR, database_recreate, environment

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kakao_claims_lighthouse_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
PUBLIC_PAGES = (
    "/",
    "/claims/check/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/login/phone/",
    "/accounts/password/reset/",
    "/accounts/verify-document/",
)
# Filled in with the run's claim id; audited with the claimant's session cookie.
SIGNED_IN_PAGES = (
    "/accounts/",
    "/accounts/profile/",
    "/accounts/consents/",
    "/claims/",
    "/claims/{claim}/wizard/eligibility/",
    "/claims/{claim}/wizard/claimant/",
    "/claims/{claim}/wizard/losses/",
    "/claims/{claim}/wizard/losses/kakao-t/",
    "/claims/{claim}/wizard/evidence/",
    "/claims/{claim}/wizard/review/",
)
# A claimant who may file, with a draft claim, and their session cookie (printed as JSON by `manage.py shell`).
CLAIMANT_CODE = """
import json
import uuid
from django.conf import settings
from django.test import Client
from claims.tests.factories import ClaimFactory, LossItemFactory, claimant_ready, service_by_slug
user = claimant_ready(email=f"lighthouse-{uuid.uuid4().hex[:8]}@example.com")
claim = ClaimFactory(claimant=user, wizard_step="review")
claim.services.set([service_by_slug("kakao-t")])
LossItemFactory(claim=claim)
client = Client()
client.force_login(user)
session = client.cookies[settings.SESSION_COOKIE_NAME].value
print(json.dumps({"claim": claim.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def server_start(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "config.wsgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited during start-up:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=2):  # noqa: S310
                return process
        except OSError:
            time.sleep(0.5)
    process_stop(process, timeout=10)
    raise SystemExit("gunicorn did not answer /healthz within 60 s.")


# Lighthouse's own runtime errors (NO_NAVSTART, NO_FCP...) come from a trace it failed to record on a busy machine;
# its message asks to run it again, which it gets up to this many times before the page counts as failed.
RUNTIME_ERROR_ATTEMPTS = 3


def lighthouse_run(url: str, *, cookie: str | None, output: Path) -> dict:
    """One mobile Lighthouse run (its default form factor and throttling) of one page; returns its JSON report,
    with `attempts` set to the number of runs it took."""
    for attempt in range(1, RUNTIME_ERROR_ATTEMPTS + 1):
        output.unlink(missing_ok=True)
        result = lighthouse_attempt(url, cookie=cookie, output=output)
        if not result.returncode and output.exists():
            return {**json.loads(output.read_text()), "attempts": attempt}
        if "Runtime error encountered" not in result.stderr:
            break
        print(f"  Lighthouse runtime error, attempt {attempt} of {RUNTIME_ERROR_ATTEMPTS}", flush=True)
    raise SystemExit(f"Lighthouse failed on {url}:\n{result.stderr[-2000:]}")


def lighthouse_attempt(url: str, *, cookie: str | None, output: Path) -> subprocess.CompletedProcess:
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking",
        "--locale=ko",
    ]
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    return subprocess.run(  # noqa: S603
        command, env={**os.environ, "CHROME_PATH": CHROME_PATH}, capture_output=True, text=True, check=False
    )


def page_result(path: str, report: dict) -> dict:
    scores = {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}
    losing = sorted(
        {
            audit_id
            for name in CATEGORIES
            if scores[name] < 100
            for ref in report["categories"][name]["auditRefs"]
            if ref["weight"] and (audit_id := ref["id"]) and (report["audits"][audit_id]["score"] or 0) < 1
        }
    )
    return {
        "page": path,
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "scores": scores,
        "met": all(scores[name] >= TARGETS[name] for name in CATEGORIES),
        "attempts": report["attempts"],
        "audits_losing_points": losing,
    }


def table(results: list[dict]) -> str:
    header = f"{'page':<42} " + " ".join(f"{name[:14]:>14}" for name in CATEGORIES) + "  met"
    lines = [header, "-" * len(header)]
    for result in results:
        scores = " ".join(f"{result['scores'][name]:>14}" for name in CATEGORIES)
        lines.append(f"{result['page'][:42]:<42} {scores}  {'yes' if result['met'] else 'NO'}")
    lines.append("targets".ljust(42) + " " + " ".join(f"{'>= ' + str(TARGETS[name]):>14}" for name in CATEGORIES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", help="audit only these paths ({claim} is the run's draft claim)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the previous run")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        raise SystemExit("node_modules/.bin/lighthouse is missing: run `make install` (npm ci).")
    if not Path(CHROME_PATH).exists():
        raise SystemExit(f"Chromium not found at {CHROME_PATH}: install Debian's chromium package.")

    folder = BASE_DIR / "var" / "lighthouse"
    shutil.rmtree(folder / "reports", ignore_errors=True)
    (folder / "reports").mkdir(parents=True)
    database_url = os.environ.get("LIGHTHOUSE_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = environment(database_url, os.environ.get("LIGHTHOUSE_REDIS_URL", DEFAULT_REDIS_URL), folder)
    env["DJANGO_ALLOWED_HOSTS"] = "localhost,127.0.0.1,testserver"
    if not args.reuse:
        database_recreate(database_url)
    manage("migrate", "--no-input", env=env)
    manage("collectstatic", "--no-input", "--clear", env=env)
    made = json.loads(manage("shell", "-c", CLAIMANT_CODE, env=env).strip().splitlines()[-1])

    port = free_port()
    server = server_start(env, port, folder / "gunicorn.log")
    pages = [(path, None) for path in PUBLIC_PAGES] + [(path, made["cookie"]) for path in SIGNED_IN_PAGES]
    if args.only:
        pages = [(path, cookie) for path, cookie in pages if path in args.only]
    results = []
    try:
        for index, (template, cookie) in enumerate(pages):
            path = template.format(claim=made["claim"])
            print(f"Lighthouse (mobile): {path}", flush=True)
            report = lighthouse_run(
                f"http://localhost:{port}{path}", cookie=cookie, output=folder / "reports" / f"{index:02d}.json"
            )
            results.append(page_result(path, report))
    finally:
        process_stop(server, timeout=20)
    print(table(results))
    document = {"targets": TARGETS, "chrome": CHROME_PATH, "pages": results}
    (folder / "results.json").write_text(json.dumps(document, ensure_ascii=False, indent=2))
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0 if all(result["met"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
