"""The surge as production runs it (issue 23): complete claimant journeys (bench/journey_locust.py) against gunicorn
started exactly as the `web` service (`gunicorn -c config/gunicorn.conf.py`, production settings from
bench/settings.py), with every Celery worker of docker-compose.yml started with its own command (same queues, same
concurrency) on the same machine, doing the background work (fraud checks, estimates, evidence reading, mail).

With `sandboxes` (the default; `--no-sandboxes` turns it off) the site runs the identity and payment sandboxes
(bench/settings.py, BENCH_SANDBOXES): every journey signs the power of attorney with a certificate, approved on the
sandbox's phone page, and pays the retainer in the sandbox's payment window; the figures say which ("sandbox").

After the journeys, the run waits for the workers' queues to drain and reports the backlog it found and how long
draining took. Figures: journeys per hour, p95 per page kind (pages and form posts < 300 ms, signing and uploads
< 1 s) beside the no-I/O view's p95 under the same load (each journey asks for it once), errors, and the resident
memory of each gunicorn worker at the start and at the end. With the sandboxes, p95 rows for the identity step and the
payment step too.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.metrics import Metric
from bench.processes import process_stop

BASE_DIR = Path(__file__).resolve().parent.parent
USERS = 20
SPAWN_RATE = 2
PAGE_TARGET_MS = 300
SLOW_TARGET_MS = 1000  # signing and uploads
JOURNEYS_PER_HOUR_TARGET = 3000
DRAIN_TIMEOUT = 900


def pictures(folder: Path) -> tuple[Path, Path]:
    """A phone screenshot (1080x2400 PNG drawn with text, as the claimants' screenshots) and a 12-megapixel photo
    (4000x3000 JPEG of a textured scene), drawn once per run."""
    from PIL import Image

    from devtools.drawing import drawn_image

    lines = [
        ((60, 140 + 120 * row), text)
        for row, text in enumerate(
            [
                "카카오T",
                "일시적인 오류로 호출할 수 없습니다",
                "2022.10.15 (토) 오후 3:33",
                "잠시 후 다시 시도해 주세요",
                "카카오톡 메시지 전송 실패",
                "네트워크 상태를 확인해 주세요",
                "결제 내역 39,000원",
                "멤버십 이용 중",
            ]
            * 2
        )
    ]
    screenshot, _ = drawn_image(lines, size=(1080, 2400), font_size=56)
    screenshot_path = folder / "journey-screenshot.png"
    screenshot.save(screenshot_path, format="PNG")
    channels = [Image.effect_noise((1000, 750), 48).resize((4000, 3000), Image.BICUBIC) for _ in range(3)]
    photo = Image.merge("RGB", channels)
    photo_path = folder / "journey-photo.jpg"
    photo.save(photo_path, format="JPEG", quality=90)
    return screenshot_path, photo_path


def _compose_workers() -> dict[str, dict]:
    """Each Celery worker service of docker-compose.yml (not beat), by service name, its command split."""
    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    workers = {}
    for name, service in compose["services"].items():
        command = service.get("command")
        command = shlex.split(command) if isinstance(command, str) else command
        if command and command[:4] == ["celery", "-A", "config", "worker"]:
            workers[name] = {**service, "command": command}
    return workers


def worker_commands() -> dict[str, list[str]]:
    """Each Celery worker service's command in docker-compose.yml (not beat), by service name."""
    return {name: service["command"] for name, service in _compose_workers().items()}


def worker_environments() -> dict[str, dict[str, str]]:
    """The variables each Celery worker service sets in docker-compose.yml (`environment`, over the env file), by
    service name: the load test starts each worker with them, its CPU priority (WORKER_NICENESS) among them."""
    return {
        name: {key: str(value) for key, value in (service.get("environment") or {}).items()}
        for name, service in _compose_workers().items()
    }


def queue_names(commands: dict[str, list[str]]) -> list[str]:
    return [command[command.index("-Q") + 1] for command in commands.values()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _children(pid: int) -> list[int]:
    import psutil

    return sorted(child.pid for child in psutil.Process(pid).children())


class Processes:
    """gunicorn as the `web` service and the Celery workers as the worker services, stopped on exit."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.port = _free_port()
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Processes:
        bin_dir = BASE_DIR / ".venv" / "bin"
        web_env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        command = [str(bin_dir / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
        with (self.folder / "journey-gunicorn.log").open("wb") as log:
            self.web = subprocess.Popen(command, cwd=BASE_DIR, env=web_env, stdout=log, stderr=subprocess.STDOUT)
        environments = worker_environments()
        for name, command in worker_commands().items():
            command = [str(bin_dir / "celery"), *command[1:]]
            command = [part.replace("@%h", f"@bench-{os.getpid()}") for part in command]
            worker_env = {**self.env, **environments[name]}
            with (self.folder / f"journey-{name}.log").open("wb") as log:
                self.workers.append(
                    subprocess.Popen(command, cwd=BASE_DIR, env=worker_env, stdout=log, stderr=subprocess.STDOUT)
                )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up: see {self.folder}/journey-gunicorn.log")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer /healthz within 90 s")

    def web_workers_rss(self) -> dict[int, float]:
        return {pid: rss for pid in _children(self.web.pid) if (rss := _rss_mb(pid)) is not None}

    def __exit__(self, *exc) -> None:
        for process in [self.web, *self.workers]:
            process_stop(process, timeout=60)


def backlog(redis_url: str, queues: list[str]) -> int:
    """Messages waiting in the workers' queues plus those a worker holds unacknowledged (running or scheduled)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    waiting = sum(client.llen(queue) for queue in queues)
    return waiting + client.hlen("unacked")


def purge(redis_url: str, queues: list[str]) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(*queues, "unacked", "unacked_index")


def kind_of(method: str, name: str) -> str:
    """The step kind a target is reported by: signing and uploads (< 1 s), the identity step (< 1 s: the
    certified signature's request, the waiting page and its polls, the sandbox's phone), the payment step (its page,
    the sandbox's payment window and the return: < 300 ms, as pages), other pages and form posts (< 300 ms).
    Signing is the typed signature's POST or, with a certificate, the poll that found it approved (it signs)."""
    if name.startswith("/bench/trivial"):
        return "reference"
    if name.endswith("(signed)") or (
        method == "POST" and name.startswith("/accounts/power-of-attorney/") and not name.endswith("(certified)")
    ):
        return "signing"
    if method == "POST" and "evidence/upload" in name:
        return "upload"
    if name.startswith(("/accounts/identity/", "/sandbox/identity/")) or name.endswith("(certified)"):
        return "identity"
    if name.startswith(("/payments/", "/sandbox/payments/")):
        return "payment"
    return "form" if method == "POST" else "page"


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)


WARM_UP_JOURNEYS_PER_USER = 1


def _locust(
    site: Processes, env: dict[str, str], *, journeys: int, users: int, seconds: int, csv: Path, rate: int = 0
) -> None:
    """One locust run of `journeys` complete journeys (or `seconds`) by `users` claimants at once; with `rate`,
    journeys start at that many an hour (each user paced, the users started one journey interval apart), else each
    user starts its next journey as soon as the last ends."""
    users = min(users, journeys) if journeys else users
    spawn_rate = rate / 3600 if rate else SPAWN_RATE
    env = {**env, "BENCH_PACING": f"{users * 3600 / rate:.3f}" if rate else "0"}
    command = [
        sys.executable, "-m", "locust", "-f", str(BASE_DIR / "bench" / "journey_locust.py"), "--headless",
        "--users", str(users), "--spawn-rate", f"{spawn_rate:.4f}",
        "--run-time", f"{seconds}s", "--stop-timeout", "60", "--host", site.url,
        "--csv", str(csv), "--only-summary", "--loglevel", "WARNING", "JourneyUser",
    ]  # fmt: skip
    env = {**env, "BENCH_JOURNEYS": str(journeys)}
    csv.with_name(f"{csv.name}_stats.csv").unlink(missing_ok=True)  # a previous run's must not pass for this one's
    finished = subprocess.run(command, cwd=BASE_DIR, env=env, check=False, capture_output=True, timeout=seconds + 300)
    locust_ran(finished, csv)


def locust_ran(finished: subprocess.CompletedProcess, csv: Path) -> None:
    """Raise unless locust ran the journeys and wrote its statistics (its exit code is 1 when a request failed,
    which the figures report; a locustfile that cannot start writes nothing)."""
    if not csv.with_name(f"{csv.name}_stats.csv").exists():
        output = (finished.stderr or b"").decode(errors="replace")[-3000:]
        raise RuntimeError(f"locust did not run (exit code {finished.returncode}):\n{output}")


class CpuMeter:
    """CPU seconds spent between `start()` and `stop()` by each part of the run: the gunicorn master and its workers,
    each Celery worker service, PostgreSQL and Redis (every process of theirs, so on an otherwise idle machine only),
    and the load generator itself (locust, reaped by then)."""

    def __init__(self, site: Processes, worker_names: list[str]) -> None:
        from bench.processes import server_pids

        self.parts = {"web (gunicorn)": [site.web.pid]}
        self.parts.update({name: [worker.pid] for name, worker in zip(worker_names, site.workers, strict=True)})
        self.parts["PostgreSQL"] = server_pids("postgres")
        self.parts["Redis"] = server_pids("redis-server")
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def _reading(self) -> dict[str, float]:
        from bench.processes import reaped_children_cpu_seconds, tree_cpu_seconds

        reading = {part: sum(tree_cpu_seconds(pid) for pid in pids) for part, pids in self.parts.items()}
        reading["load generator (locust)"] = reaped_children_cpu_seconds()
        return reading

    def start(self) -> None:
        self.before = self._reading()

    def stop(self) -> None:
        after = self._reading()
        self.spent = {part: after[part] - self.before[part] for part in after}


def measure(
    *,
    env: dict[str, str],
    folder: Path,
    journeys: int,
    seconds: int,
    users: int = USERS,
    sandboxes: bool = True,
    rate: int = JOURNEYS_PER_HOUR_TARGET,
) -> list[Metric]:
    """Run `journeys` complete journeys (or for `seconds` if journeys is 0) and return the figures (static files
    must have been collected; the database migrated). With `sandboxes` the site runs the identity and payment
    sandboxes (bench/settings.py) and every journey signs with a certificate and pays the retainer. Journeys start
    at `rate` an hour (the target; 0: each user goes on as fast as the site answers, which measures the most the
    machine can do but puts every latency at saturation).

    A warm-up of one journey per user comes first, not counted: the web workers' memory at the start is read after
    it, once every page's code, templates and translations have been loaded, so the memory figure shows growth with
    the work, not the first use of each module."""
    import django

    django.setup()
    from claims.models import Claim

    screenshot, photo = pictures(folder)
    mail = folder / "journey-mail"
    mail.mkdir(exist_ok=True)
    for old in mail.iterdir():
        old.unlink()
    timings = folder / "journey-timings.jsonl"
    server_env = {
        **env,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
        "BENCH_EMAIL_FILE_PATH": str(mail),
        "BENCH_SANDBOXES": "1" if sandboxes else "",
    }
    commands = worker_commands()
    queues = queue_names(commands)
    purge(env["REDIS_URL"], queues)
    locust_env = {**server_env, "BENCH_SCREENSHOT": str(screenshot), "BENCH_PHOTO": str(photo)}
    with Processes(server_env, folder) as site:
        warm_up = users * WARM_UP_JOURNEYS_PER_USER
        warm_up_env = {**locust_env, "BENCH_RUN": f"{int(time.time())}ffff", "BENCH_TIMINGS": ""}
        _locust(site, warm_up_env, journeys=warm_up, users=users, seconds=300, csv=folder / "journey-warm-up")
        _drain(env["REDIS_URL"], queues)
        first_claim = (Claim.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        rss_start = site.web_workers_rss()
        cpu = CpuMeter(site, list(commands))
        cpu.start()
        measured_env = {**locust_env, "BENCH_RUN": str(int(time.time())), "BENCH_TIMINGS": str(timings)}
        started = time.monotonic()
        with RssSampler(site) as sampler:
            _locust(
                site, measured_env, journeys=journeys, users=users, seconds=seconds, csv=folder / "journey", rate=rate
            )
        elapsed = time.monotonic() - started
        rss_end = site.web_workers_rss()
        found = backlog(env["REDIS_URL"], queues)
        drain_seconds = _drain(env["REDIS_URL"], queues)
        cpu.stop()
        left = backlog(env["REDIS_URL"], queues)
    rows = [json.loads(line) for line in timings.read_text(encoding="utf-8").splitlines()] if timings.exists() else []
    return _figures(
        rows=rows,
        elapsed=elapsed,
        submitted=Claim.objects.filter(pk__gte=first_claim, status=Claim.Status.SUBMITTED).count(),
        started=Claim.objects.filter(pk__gte=first_claim).count(),
        rss=(rss_start, rss_end),
        rss_samples=sampler.samples,
        drain=(found, drain_seconds, left),
        cpu=cpu.spent,
        users=users,
        rate=rate,
        folder=folder,
        sandboxes=sandboxes,
    )


class RssSampler:
    """Reads the web workers' resident memory every SAMPLE_SECONDS while the journeys run (in a thread), so the
    figures can show whether a worker keeps growing or levels off."""

    SAMPLE_SECONDS = 5

    def __init__(self, site: Processes) -> None:
        import threading

        self.site = site
        self.samples: list[dict[int, float]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.SAMPLE_SECONDS):
            self.samples.append(self.site.web_workers_rss())

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


def second_half_growth(samples: list[dict[int, float]], end: dict[int, float]) -> float | None:
    """The largest growth of a worker alive from the run's middle sample to its end (the end reading), or None."""
    if not samples:
        return None
    middle = samples[len(samples) // 2]
    return max((end[pid] / middle[pid] for pid in set(middle) & set(end)), default=None)


def _drain(redis_url: str, queues: list[str]) -> float:
    """Wait (up to DRAIN_TIMEOUT) until the workers' queues are empty; the seconds it took."""
    started = time.monotonic()
    while backlog(redis_url, queues) and time.monotonic() - started < DRAIN_TIMEOUT:
        time.sleep(1)
    return time.monotonic() - started


def _figures(
    *, rows, elapsed, submitted, started, rss, drain, cpu, users, folder, sandboxes, rate=0, rss_samples=()
) -> list[Metric]:
    by_kind: dict[str, list[float]] = {}
    errors = 0
    requests = 0
    ends = [row[4] for row in rows if len(row) > 4]
    if len(ends) > 1:  # from the first request to the last (locust may idle after the last journey)
        elapsed = max(ends) - min(ends)
    starts = sorted(row[4] for row in rows if row[0] == "JOURNEY" and row[1] == "started" and len(row) > 4)
    for method, name, milliseconds, ok, *_ in rows:
        if method in ("JOURNEY",):
            continue
        if not ok:
            errors += 1
            continue
        requests += 1
        by_kind.setdefault(kind_of(method, name), []).append(milliseconds)
    reference = p95(by_kind.get("reference", []))
    providers = (
        "sandbox identity and payment (certified signature, retainer paid)"
        if sandboxes
        else "no identity or payment provider (typed signature, no retainer)"
    )
    pace = f"journeys started at {rate:,} an hour" if rate else "each user's next journey at once"
    note = (
        f"{users} users, {pace}, {providers}, gunicorn -c config/gunicorn.conf.py, Celery workers of "
        "docker-compose.yml, same 2 cores"
    )
    if len(starts) > 1 and starts[-1] > starts[0]:
        # The rate journeys started at (from the first start to the last), times the share that reached submitted.
        per_hour = (len(starts) - 1) / (starts[-1] - starts[0]) * 3600 * min(1.0, submitted / len(starts))
    else:
        per_hour = submitted / elapsed * 3600 if elapsed else 0
    metrics = [
        Metric(
            "journey: complete journeys per hour (landing to submitted)",
            round(per_hour),
            "journeys/h",
            n=submitted,
            target=f">= {JOURNEYS_PER_HOUR_TARGET}",
            met=round(per_hour) >= JOURNEYS_PER_HOUR_TARGET,
            note=f"{note}; {submitted} submitted of {started} claims started in {elapsed:.0f} s",
        )
    ]
    kinds = [
        ("page", PAGE_TARGET_MS),
        ("form", PAGE_TARGET_MS),
        ("signing", SLOW_TARGET_MS),
        ("upload", SLOW_TARGET_MS),
    ]
    if sandboxes:
        kinds += [("identity", SLOW_TARGET_MS), ("payment", PAGE_TARGET_MS)]
    for kind, target in kinds:
        value = p95(by_kind.get(kind, []))
        metrics.append(
            Metric(
                f"journey: p95 {kind}",
                value,
                "ms",
                n=len(by_kind.get(kind, [])),
                reference=reference,
                ratio=round(value / reference, 1) if value and reference else None,
                target=f"< {target} ms",
                met=value is not None and value < target,
                note=f"reference: p95 of the no-I/O view under the same load; {providers}",
            )
        )
    metrics.append(
        Metric(
            "journey: errors",
            errors,
            "requests",
            n=requests + errors,
            target="0",
            met=errors == 0,
            note=f"failed requests are listed in {folder}/journey_failures.csv",
        )
    )
    start, end = rss
    common = sorted(set(start) & set(end))
    growth = max((end[pid] / start[pid] for pid in common), default=None)
    if growth is None and start and end:  # every worker was replaced (max_requests): the largest against the largest
        growth = max(end.values()) / max(start.values())
    metrics.append(
        Metric(
            "journey: memory per gunicorn worker, start -> end",
            round(max(end.values()), 1) if end else None,
            "MB",
            n=len(end),
            reference=round(max(start.values()), 1) if start else None,
            ratio=round(growth, 2) if growth else None,
            target="flat (<= 1.1 x)",
            met=growth is not None and growth <= 1.1,
            note="start: "
            + ", ".join(f"{start[pid]:.0f}" for pid in sorted(start))
            + " MB; end: "
            + ", ".join(f"{end[pid]:.0f}" for pid in sorted(end))
            + f" MB; {len(common)} workers alive throughout (max_requests recycles workers; with none, the "
            "largest at the end against the largest at the start)",
        )
    )
    late_growth = second_half_growth(list(rss_samples), end)
    if late_growth is not None:
        middle = rss_samples[len(rss_samples) // 2]
        metrics.append(
            Metric(
                "journey: memory per gunicorn worker, middle of the run -> end",
                round(max(end.values()), 1),
                "MB",
                n=len(set(middle) & set(end)),
                reference=round(max(middle.values()), 1),
                ratio=round(late_growth, 2),
                note="informative: the growth over the run's second half of the workers alive throughout it (does a "
                "worker level off?); samples every 5 s, largest worker: "
                + ", ".join(f"{max(sample.values()):.0f}" for sample in rss_samples if sample)
                + " MB",
            )
        )
    found, seconds, left = drain
    metrics.append(
        Metric(
            "journey: worker backlog when the journeys ended",
            found,
            "tasks",
            reference=None,
            note=f"drained in {seconds:.0f} s; {left} left after draining",
            met=left == 0,
            target="drains",
        )
    )
    metrics.append(_cpu_metric(cpu, submitted))
    return metrics


def _cpu_metric(cpu: dict[str, float], submitted: int) -> Metric:
    """CPU seconds per submitted journey, the site's parts (web, workers, PostgreSQL, Redis) summed, beside the load
    generator's; the journeys an hour one 2-core machine running the whole site could serve follows from it."""
    site = sum(seconds for part, seconds in cpu.items() if part != "load generator (locust)")
    per_journey = site / submitted if submitted else None
    return Metric(
        "journey: CPU seconds per journey (web, workers, PostgreSQL, Redis)",
        round(per_journey, 2) if per_journey else None,
        "s",
        n=submitted,
        reference=round(cpu.get("load generator (locust)", 0) / submitted, 2) if submitted else None,
        note="reference: the load generator's own CPU per journey, on the same cores; by part: "
        + ", ".join(f"{part} {seconds / submitted:.2f}" for part, seconds in cpu.items() if submitted)
        + (f"; one 2-core machine running everything: {2 * 3600 / per_journey:,.0f} journeys/h" if per_journey else ""),
    )
