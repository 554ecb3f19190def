"""The layering is enforced: import-linter's contracts (pyproject.toml) hold, break on a planted violation, and no
module of mockgc imports itself around a circle."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_import_linter_contract_is_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_flow_that_imports_requests_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "mockgc", tmp_path / "mockgc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    effects = tmp_path / "mockgc" / "flows" / "effects.py"
    effects.write_text(effects.read_text() + "\nimport requests  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "Flows are I/O free" in done.stdout and "mockgc.flows.effects -> requests" in done.stdout


def test_no_module_of_mockgc_is_on_an_import_circle() -> None:
    graph = grimp.build_graph("mockgc", exclude_type_checking_imports=True)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(importer=imported, imported=module), f"{module} <-> {imported}"


def test_flows_neither_sleep_nor_touch_the_network() -> None:
    """What import-linter cannot see: the standard library's clocks, sockets and threads."""
    banned = {"time", "socket", "threading", "asyncio", "subprocess", "urllib.request", "http"}
    for path in (ROOT / "mockgc" / "flows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not {n for n in names if n.split(".")[0] in banned or n in banned}, f"{path.name}: {names}"
