"""mockgc's options on Locust's parser: the locustfile registers them, and `mockgc locust` does so before Locust
prints its --help (Locust prints it before it imports any locustfile: locustio/locust#2917).

The mitigation and the fault profile offer their names as `choices`, which Locust's web UI shows as
drop-downs; a user's own strategy (`package.module:Class`) is still taken on the command line.
"""

from __future__ import annotations

from typing import Any

from mockgc.faults import PROFILES
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.registry import REGISTRY

DEFAULTS = RunSpec()
_registered: list[Any] = []  # the parsers already given the options (a parser takes each option once)


class Choices(list[str]):
    """The names a drop-down offers; `in` also takes a user's own strategy, package.module:Class."""

    def __contains__(self, value: object) -> bool:
        return super().__contains__(value) or (isinstance(value, str) and ":" in value.strip(": "))


def mitigation_choices() -> Choices:
    return Choices(REGISTRY)


def profile_choices() -> list[str]:
    """'' leaves the mock's profile as it is; any other is set on the mock at test start (with the admin key)."""
    return ["", *PROFILES]


def add_options(parser: Any) -> None:
    """mockgc's options, on Locust's parser (straight on it: the web UI keywords work only there). Once per parser."""
    if any(parser is seen for seen in _registered):
        return
    _registered.append(parser)
    parser.add_argument(
        "--spec",
        env_var="MOCKGC_SPEC",
        default="",
        include_in_web_ui=False,
        help="mockgc: the run's spec as one JSON document (mockgc run passes it); the options below are then unused.",
    )
    parser.add_argument(
        "--mitigation",
        env_var="MOCKGC_MITIGATION",
        default=DEFAULTS.mitigation,
        choices=mitigation_choices(),
        help="mockgc: the mitigation under test, a registered name or your own package.module:Class.",
    )
    # Locust has its own --profile (a run label), hence --fault-profile.
    parser.add_argument(
        "--fault-profile",
        env_var="MOCKGC_PROFILE",
        default="",
        choices=profile_choices(),
        help="mockgc: the fault profile set on the mock at test start (needs --admin-key); empty keeps the mock's.",
    )
    parser.add_argument(
        "--publish-at",
        env_var="MOCKGC_PUBLISH_AT",
        default="",
        help="mockgc: publish offsets after start, seconds or Locust's form: 5,15,25 or 30s,1m.",
    )
    parser.add_argument(
        "--publishes",
        type=int,
        env_var="MOCKGC_PUBLISHES",
        default=DEFAULTS.publishes,
        help="mockgc: without --publish-at, this many publishes spread over the run (or 60 s without --run-time), "
        "with calm time around each window; a count that does not fit is refused at test start.",
    )
    # An option rather than only the variable, so a master passes it on to its workers.
    parser.add_argument(
        "--mitigation-params",
        env_var="MOCKGC_MITIGATION_PARAMS",
        default="",
        help='mockgc: the mitigation\'s parameters as a JSON object, e.g. {"attempts": 5}.',
    )
    parser.add_argument(
        "--seed", type=int, env_var="MOCKGC_SEED", default=DEFAULTS.seed, help="mockgc: seed of codes and waits."
    )
    parser.add_argument(
        "--client-id", env_var="MOCKGC_CLIENT_ID", default="mockgc-client", help="mockgc: the mock's OAuth client id."
    )
    parser.add_argument(
        "--client-secret", env_var="MOCKGC_CLIENT_SECRET", default="", is_secret=True, help="mockgc: its secret."
    )
    parser.add_argument(
        "--admin-key",
        env_var="MOCKGC_ADMIN_KEY",
        default="",
        is_secret=True,
        help="mockgc: the mock's admin key: sets --fault-profile, and saves the truth so the test can be judged.",
    )
    parser.add_argument(
        "--store", env_var="MOCKGC_STORE", default="", help="mockgc: external store URL (sqlite:///f.db, redis://...)."
    )
    parser.add_argument(
        "--think-time",
        env_var="MOCKGC_THINK_TIME",
        default=f"{DEFAULTS.think_time:g}s",
        help="mockgc: mean time between interactions: seconds (0.5) or Locust's form (1s, 1m).",
    )
    parser.add_argument(
        "--drain-timeout",
        env_var="MOCKGC_DRAIN_TIMEOUT",
        default=f"{DEFAULTS.drain_timeout:g}s",
        help="mockgc: at stop, the time to let interactions in flight finish: seconds or Locust's form (10s, 1m).",
    )
    parser.add_argument(
        "--history-dir",
        env_var="MOCKGC_HISTORY_DIR",
        default="",
        include_in_web_ui=False,
        help="mockgc: where the master writes each test's history.jsonl, live.json, evidence.json, status.json and, "
        "judged at the stop, result.json and report.html, in its own test-001, test-002, ... (nothing is written "
        "without it); `mockgc check DIR` judges them again.",
    )
    parser.add_argument(
        "--history-flat",
        action="store_true",
        default=False,
        include_in_web_ui=False,
        help="mockgc run's: write straight into --history-dir, no test-NNN, no evidence.json and no judging (the run "
        "does both).",
    )
