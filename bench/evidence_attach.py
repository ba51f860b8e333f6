"""How long the upload request's own work takes for the journey's 12-megapixel photo (bench/journey_load.py), and
how the process's memory moves over many uploads. Runs `evidence_attach` in this process against a draft claim per
upload; the background tasks are queued to Redis, not run (REDIS_URL must be set, a database no one else uses).

    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python -m bench.evidence_attach
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TIMED = 15
MEMORY_RUNS = 30
WARM_UP = 2


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL must be set: the tasks are queued, not run inline.")
    folder = Path(tempfile.mkdtemp(prefix="bench-attach-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("PRIVATE_STORAGE_ROOT", str(folder / "private"))
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.files.uploadedfile import TemporaryUploadedFile
    from django.core.management import call_command

    from bench.journey_load import pictures
    from claims.services.evidence import evidence_attach
    from claims.tests.factories import ClaimFactory

    call_command("migrate", verbosity=0)
    _, photo_path = pictures(folder)
    photo = photo_path.read_bytes()

    def upload_once() -> float:
        claim = ClaimFactory()
        upload = TemporaryUploadedFile("photo.jpg", "image/jpeg", len(photo), None)
        upload.write(photo)
        upload.seek(0)
        started = time.perf_counter()
        evidence_attach(claim=claim, actor=claim.claimant, upload=upload, tag="proof_of_use")
        elapsed = time.perf_counter() - started
        upload.close()
        return elapsed

    for _ in range(WARM_UP):  # imports, the first connections and the factories' own first use
        upload_once()
    before = rss_mb()
    steps = []
    for run in range(1, MEMORY_RUNS + 1):
        upload_once()
        if run % 10 == 0:
            steps.append(f"{rss_mb():.0f}")
    after = rss_mb()
    timings = [upload_once() for _ in range(TIMED)]
    print(f"photo {len(photo) / 1e6:.1f} MB")
    print(
        f"evidence_attach median of {TIMED}: {statistics.median(timings) * 1000:.0f} ms "
        f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f})"
    )
    print(
        f"RSS after {WARM_UP} warm-up uploads {before:.0f} MB, after {MEMORY_RUNS} more {after:.0f} MB "
        f"({after / before:.2f}x); every 10: {' -> '.join(steps)} MB"
    )


if __name__ == "__main__":
    main()
