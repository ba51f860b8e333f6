#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # A command's stdout is its output (`manage.py estimate ... > out.json`): log lines go to stderr, whatever the
    # environment says for the web and worker processes (config/logging.py).
    os.environ["DJANGO_LOG_STREAM"] = "stderr"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
