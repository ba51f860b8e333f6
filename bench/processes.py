"""Child processes the benchmarks start (gunicorn, a Celery worker) and stop on the way out."""

import signal
import subprocess


def process_stop(process: subprocess.Popen | None, *, timeout: float) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL if the process is still running after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
