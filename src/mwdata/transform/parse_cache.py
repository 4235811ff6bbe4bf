"""dbt's parse of the packaged project, kept between processes.

Parsing the project (jinja, schema validation of ~150 nodes and ~700 macros) costs ~8 s of CPU in
every new process: more than building the models of a small store, and paid by every `mwdata build`,
`check` and `run`. The parse depends on the project's files, the vars, the target's adapter,
database name and schema, and the versions of dbt and its adapter; not on where the store file
lives. So the parse is kept in the cache directory under a digest of those and handed to dbt
(`dbtRunner(manifest=...)`), which then skips parsing.

The project copy that was parsed lives in the cache too, shared read-only by every run (its nodes
keep their file paths: seeds are read from there); dbt writes target/ and logs/ into each run's own
directory. A parse holds no secret: the profile passes secrets as `env_var()` templates, and the
project reads no environment variable at parse time. Everything is owner-only (0700/0600).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from mwdata.transform.project import PROJECT_DIR

log = logging.getLogger("mwdata.transform")

CACHE_ENV = "MWDATA_CACHE_DIR"
PARSE_FILE = "partial_parse.msgpack"  # what dbt writes to target/ after parsing
_IGNORED = ("target", "logs", "dbt_packages", "__pycache__")


def cache_root() -> Path:
    """`$MWDATA_CACHE_DIR`, else `$XDG_CACHE_HOME/mwdata`, else `~/.cache/mwdata`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "mwdata"


def _private_dir(p: Path) -> Path:
    """`p` and its parents up to the cache root, created owner-only."""
    p.mkdir(parents=True, exist_ok=True)
    root = cache_root()
    for d in [p, *p.parents]:
        if d != root and root not in d.parents:
            break
        d.chmod(0o700)
    return p


@cache
def _project_digest() -> str:
    h = hashlib.sha256()
    for f in sorted(PROJECT_DIR.rglob("*")):
        rel = f.relative_to(PROJECT_DIR)
        if f.is_file() and not set(rel.parts) & set(_IGNORED):
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    for dist in ("dbt-core", "dbt-duckdb", "dbt-postgres"):
        with contextlib.suppress(Exception):
            h.update(f"{dist}={version(dist)}".encode())
    return h.hexdigest()[:24]


@cache
def project_copy() -> Path:
    """The packaged project, copied once per content (and dbt version) into the cache; into a
    temporary directory of this process when the cache cannot be written (then nothing is kept)."""
    try:
        root = _private_dir(cache_root() / "dbt" / _project_digest())
        project = root / "project"
        if not project.is_dir():
            _copy_into(root, project)
        return project
    except OSError as exc:
        log.warning(
            "cache directory %s not writable (%s): dbt parses the project in every run", cache_root(), exc
        )
        tmp = Path(tempfile.mkdtemp(prefix="mwdata-dbt-project-"))
        atexit.register(shutil.rmtree, tmp, True)
        return _copy_into(tmp, tmp / "project")


def _copy_into(parent: Path, project: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=".copy-"))
    try:
        shutil.copytree(PROJECT_DIR, tmp / "project", ignore=shutil.ignore_patterns(*_IGNORED))
        with contextlib.suppress(OSError):  # another process copied it first: keep theirs
            (tmp / "project").rename(project)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return project


def key(profile: dict[str, Any], dbt_vars: str) -> str:
    """The digest of what a parse depends on. A DuckDB store enters by its database name (dbt-duckdb
    names it after the file), so stores called alike in different folders share a parse."""
    prof = dict(profile)
    if prof.get("type") == "duckdb":
        from dbt.adapters.duckdb.credentials import DuckDBCredentials

        prof["path"] = DuckDBCredentials.path_derived_database_name(prof["path"])
    doc = yaml.safe_dump({"profile": prof, "vars": dbt_vars, "project": str(project_copy())}, sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:24]


def _file(parse_key: str) -> Path:
    return cache_root() / "dbt" / _project_digest() / "parses" / f"{parse_key}.msgpack"


_LOADED: dict[str, bytes] = {}


def load(parse_key: str) -> Any | None:
    """A fresh Manifest from the kept parse, or None (never parsed, or unreadable: dbt parses)."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    data = _LOADED.get(parse_key)
    if data is None:
        try:
            data = _file(parse_key).read_bytes()
        except OSError:
            return None
    try:
        manifest = Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)  # type: ignore[attr-defined]
    except Exception as exc:  # a truncated or foreign file: parse again and replace it
        log.debug("kept dbt parse %s unreadable (%s): parsing", parse_key, exc)
        return None
    _LOADED[parse_key] = data
    return manifest


def save(parse_key: str, target: Path) -> None:
    """Keep the parse dbt wrote to `target` (atomically: a reader sees a whole file or none)."""
    src = target / PARSE_FILE
    if not src.is_file():
        return
    data = src.read_bytes()
    dest = _file(parse_key)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=_private_dir(dest.parent), prefix=".parse-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except OSError as exc:
        log.debug("could not keep the dbt parse: %s", exc)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return
    _LOADED[parse_key] = data
