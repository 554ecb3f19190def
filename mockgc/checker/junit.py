"""JUnit XML for CI servers: one testcase per mitigation and profile, failed by the gate (mockgc/checker/gate.py).

The shape is the one Jenkins (xUnit's junit-10 schema), GitLab and GitHub's test reporters read:
<testsuites><testsuite><testcase classname name time>, with <failure message> for a broken
expectation, threshold or verdict and <error message> for a run the harness could not judge.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from mockgc.checker.gate import Gate, loss_summary, problems
from mockgc.checker.result import CLASSES, FAILS, HOLDS, Result


def _harness_error(result: Result) -> str | None:
    """Why the harness could not judge this result, if it could not."""
    harness: dict[str, Any] = result.get("harness") or {}
    if harness.get("problems"):
        return "; ".join(str(p) for p in harness["problems"])
    if result.get("partial"):
        return "the run was interrupted: its result is partial"
    if result["verdict"] not in (HOLDS, FAILS):
        return f"no verdict ({result['verdict']})"
    return None


def _seconds(result: Result) -> str:
    load = (result.get("harness") or {}).get("load_seconds")
    return f"{float(load or 0):.3f}"


def _details(result: Result) -> str:
    sessions = result["sessions"]
    latency = result["latency_ms"]
    counts = ", ".join(f"{name} {sessions[name]}" for name in CLASSES)
    return (
        f"verdict {result['verdict']}: {loss_summary(result)}\n"
        f"sessions {sessions['total']}: {counts}\n"
        f"requests per session {result['requests_per_session']}, call latency p50/p99 "
        f"{latency['p50']}/{latency['p99']} ms\n"
    )


def junit_xml(suite: str, results: Sequence[Result], gate: Gate) -> str:
    """The JUnit document for these results judged by `gate` (a lone result must hold, as its exit code says)."""
    alone = len(results) == 1
    root = ET.Element("testsuites", name="mockgc")
    testsuite = ET.SubElement(root, "testsuite", name=suite)
    properties = ET.SubElement(testsuite, "properties")
    for name, value in (
        ("seed", sorted({str(r["seed"]) for r in results})),
        ("fault_profile", sorted({r["fault_profile"] for r in results})),
        ("expect", [f"{k}={v}" for k, v in sorted(gate.expect.items())]),
        ("thresholds", [t.text for t in gate.thresholds]),
    ):
        if value:
            ET.SubElement(properties, "property", name=name, value=", ".join(value))
    failures = errors = 0
    total = 0.0
    for result in results:
        case = ET.SubElement(
            testsuite,
            "testcase",
            classname=f"mockgc.{result['fault_profile']}",
            name=result["mitigation"],
            time=_seconds(result),
        )
        total += float(_seconds(result))
        error = _harness_error(result)
        broken = problems(result, gate, alone=alone)
        if error is not None:
            errors += 1
            ET.SubElement(case, "error", message=error, type="harness").text = _details(result)
        elif broken:
            failures += 1
            ET.SubElement(case, "failure", message="; ".join(broken), type="gate").text = _details(result) + "".join(
                f"broken: {item}\n" for item in broken
            )
        ET.SubElement(case, "system-out").text = _details(result)
    for element in (root, testsuite):
        element.set("tests", str(len(results)))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("time", f"{total:.3f}")
    testsuite.set("skipped", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
