"""`mockgc locust [LOCUST OPTIONS]`: Locust on mockgc's locustfile, with mockgc's options in its --help."""

from __future__ import annotations

import os
import sys

import click


@click.command(
    "locust",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def locust_command(args: tuple[str, ...]) -> None:
    """Locust with loadtests/locustfile.py and mockgc's options (--mitigation, --fault-profile, --history-dir, ...),
    which `mockgc locust --help` lists with Locust's own. Every argument is Locust's: e.g. `mockgc locust --host
    http://127.0.0.1:8321 --admin-key adm1n --mitigation retry --history-dir runs/by-hand`."""
    # Locust runs in a process of its own: importing it patches the interpreter with gevent.
    argv = [sys.executable, "-m", "mockgc.inlocust", *args]
    os.execv(sys.executable, argv)
