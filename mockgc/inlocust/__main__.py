"""`python -m mockgc.inlocust [LOCUST OPTIONS]` (`mockgc locust`): Locust with mockgc's locustfile and its options.

Locust prints `--help` before it imports any locustfile (locustio/locust#2917), so `locust -f
loadtests/locustfile.py --help` cannot list the options the locustfile adds. Here they are registered
first, so `mockgc locust --help` lists them with Locust's own; everything else is plain Locust.
"""

from __future__ import annotations

import sys
from pathlib import Path

import locust  # noqa: F401 - first: Locust patches the interpreter with gevent before anything else loads
from locust import events
from locust.main import main

from mockgc.inlocust.options import add_options

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtests" / "locustfile.py"


def run(argv: list[str]) -> int:
    events.init_command_line_parser.add_listener(add_options)
    given = any(arg in ("-f", "--locustfile") or arg.startswith(("-f=", "--locustfile=")) for arg in argv)
    sys.argv = ["locust", *([] if given else ["-f", str(LOCUSTFILE)]), *argv]
    return int(main() or 0)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
