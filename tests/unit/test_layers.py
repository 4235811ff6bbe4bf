"""The import rules of docs/architecture.md ("Layers and import rules"), checked with `ast` over src/.

Every `import`/`from ... import` counts, including the lazy ones inside functions: a lazy import of a
lower layer still ties the two together.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

BASE = ("catalog", "config", "errors")  # importable from everywhere
# Import order: a layer imports only base modules and layers earlier in this list (same rank: siblings
# that must not import each other).
ORDER: tuple[tuple[str, ...], ...] = (
    ("api",),
    ("store",),
    ("sync",),
    ("transform",),
    ("metrics",),
    ("read",),
    ("app", "report"),
    ("ops",),
    ("integrations",),
    ("cli",),
)
# The simulator is an independent implementation of the API: it imports base modules only, and only
# the commands that run it (ops for the demo, cli for `mwdata simulate`) import it.
SIMULATOR_USERS = ("ops", "cli")
# The one module outside the dashboard package that may import it.
APP_IMPORTER = "mwdata.cli.dashboard"
NO_STREAMLIT = ("read", "report", "ops", "integrations", "cli")


def _rank(layer: str) -> int | None:
    return next((i for i, group in enumerate(ORDER) if layer in group), None)


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of the modules `path` imports (`from mwdata import ops` gives `mwdata.ops`)."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "mwdata":
                out |= {f"mwdata.{a.name}" for a in node.names}
            else:
                out.add(base)
    return out


def violations(root: Path) -> list[str]:
    """Every import that breaks a rule, as `module -> imported: why`."""
    found: list[str] = []
    for path in sorted((root / "mwdata").rglob("*.py")):
        module = _module(path, root)
        parts = module.split(".")
        if len(parts) == 1:
            continue  # mwdata/__init__.py
        layer = parts[1]
        if layer not in BASE and layer != "simulator" and _rank(layer) is None:
            found.append(f"{module}: layer {layer!r} is in no rule; add it to docs/architecture.md and here")
            continue
        for name in sorted(_imports(path, module)):
            top = name.split(".")[0]
            if top == "streamlit" and layer in NO_STREAMLIT:
                found.append(f"{module} -> {name}: only mwdata.app may import Streamlit")
            if top != "mwdata" or len(name.split(".")) < 2:
                continue
            target = name.split(".")[1]
            if target == layer:
                continue
            if target == "app" and module != APP_IMPORTER:
                found.append(f"{module} -> {name}: only {APP_IMPORTER} imports the dashboard")
                continue
            if target in BASE:
                continue
            if layer in BASE:
                found.append(f"{module} -> {name}: base modules import no layer")
            elif layer == "simulator":
                found.append(f"{module} -> {name}: the simulator imports only {', '.join(BASE)}")
            elif target == "simulator":
                if layer not in SIMULATOR_USERS:
                    found.append(f"{module} -> {name}: only {', '.join(SIMULATOR_USERS)} run the simulator")
            else:
                mine, theirs = _rank(layer), _rank(target)
                if theirs is None:
                    continue  # a module of mwdata that does not exist; the import itself would fail
                if mine is not None and theirs >= mine:
                    found.append(f"{module} -> {name}: {layer} may import only layers before it")
    return found


def test_src_follows_the_import_rules() -> None:
    assert violations(SRC) == []


def test_the_checker_finds_each_kind_of_violation(tmp_path: Path) -> None:
    """The rules above can fail: a tree that breaks each of them is reported, line by line."""
    files = {
        "mwdata/__init__.py": "",
        "mwdata/errors.py": "",
        "mwdata/store/export.py": "from mwdata.read.snapshot import Store\n",
        "mwdata/report/render.py": "def f():\n    from mwdata.app import charts\n",
        "mwdata/read/queries.py": "import streamlit as st\nfrom mwdata import errors, store\n",
        "mwdata/simulator/server.py": "from mwdata.api import client\nfrom mwdata import catalog\n",
        "mwdata/transform/run.py": "from mwdata.simulator import generate\n",
        "mwdata/cli/dashboard.py": "from mwdata.app import server\n",
        "mwdata/newthing/x.py": "",
        "mwdata/app/ui.py": "from . import views\nfrom ..read import queries\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    got = violations(tmp_path)
    assert got == [
        "mwdata.newthing.x: layer 'newthing' is in no rule; add it to docs/architecture.md and here",
        "mwdata.read.queries -> streamlit: only mwdata.app may import Streamlit",
        "mwdata.report.render -> mwdata.app: only mwdata.cli.dashboard imports the dashboard",
        "mwdata.simulator.server -> mwdata.api: the simulator imports only catalog, config, errors",
        "mwdata.store.export -> mwdata.read.snapshot: store may import only layers before it",
        "mwdata.transform.run -> mwdata.simulator: only ops, cli run the simulator",
    ]


def test_report_export_and_run_load_neither_streamlit_nor_the_dashboard() -> None:
    """The rule at run time (transitive imports included): every module but the dashboard's loads
    without `streamlit` or `mwdata.app` ending up in `sys.modules`."""
    modules = [
        m
        for m in (_module(p, SRC) for p in sorted((SRC / "mwdata").rglob("*.py")))
        if not m.startswith(("mwdata.app", APP_IMPORTER))
    ]
    code = (
        "import importlib, sys\n"
        f"names = {modules!r}\n"
        "for n in names: importlib.import_module(n)\n"
        "from mwdata.cli import _register; _register()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit' or m.startswith('mwdata.app'))\n"
        "print(len(names), bad[:5])\n"
        "sys.exit(1 if bad or len(names) < 40 else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
