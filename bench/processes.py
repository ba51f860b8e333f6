"""Child processes the benchmarks start (gunicorn, a Celery worker), stop on the way out, and the CPU they spent."""

import resource
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


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds spent so far by a process and every process under it, including the children
    it has already reaped (a gunicorn worker replaced by `max_requests`, a PostgreSQL backend that disconnected): the
    total only grows, so the difference of two readings is what the tree spent between them."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # ended between the listing and the reading: its parent counts it once reaped
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def server_pids(name: str) -> list[int]:
    """The top processes of a server running on this machine by its process name (PostgreSQL's postmaster,
    redis-server): the processes of that name whose parent has another name."""
    import psutil

    found = []
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] != name:
            continue
        try:
            parent = psutil.Process(process.info["ppid"]).name() if process.info["ppid"] else ""
        except psutil.NoSuchProcess:
            parent = ""
        if parent != name:
            found.append(process.pid)
    return found


def reaped_children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for (a locust run, say)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
