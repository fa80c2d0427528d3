"""`make run`: the web server, one Celery worker and beat together; Ctrl-C stops all three."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("RUN_HOST", "127.0.0.1")
PORT = os.environ.get("RUN_PORT", "8000")


def _stop(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C (SIGINT) and a plain kill (SIGTERM) both stop everything, even when a
    # non-interactive shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "policyhub"]
    commands = {
        "web": [python, "manage.py", "runserver", f"{HOST}:{PORT}"],
        # mingle and gossip need a broadcast exchange, which the embedded broker lacks.
        "worker": celery
        + ["worker", "--loglevel=INFO", "--concurrency=2", "--without-mingle", "--without-gossip"],
        "beat": celery + ["beat", "--loglevel=INFO"],
    }
    processes: dict[str, subprocess.Popen] = {}
    for name, command in commands.items():
        # Each in its own session, so that stopping it stops its children too.
        processes[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)

    print(f"\nPolicyHub is starting on http://{HOST}:{PORT}/ (web, worker and beat).", flush=True)
    print("Demo accounts, password policyhub-demo: employee@example.com, manager@example.com,")
    print("  comms@example.com, hr@example.com, policyadmin@example.com, leader@example.com,")
    print(
        "  admin@example.com (site admin). Mail is written to var/mail/. Ctrl-C stops.\n",
        flush=True,
    )

    exit_code = 0
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} stopped (exit {process.returncode}); stopping the others.")
                    exit_code = process.returncode or 1
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for name, process in processes.items():
            if process.poll() is None:
                if name == "web":
                    # runserver's autoreloader runs the server in a child process.
                    os.killpg(process.pid, signal.SIGTERM)
                else:
                    # Celery shuts its own pool down (warm shutdown) on SIGTERM.
                    process.terminate()
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left in its group
            except ProcessLookupError:
                pass
    print("PolicyHub stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
