"""Issue 16 item 8: text from the API is rendered as text, never as Markdown.

Before: utterances, bot replies, labels and plugin names went through `st.markdown`/`st.caption`/
`st.warning`, so an end user's `![x](http://evil.example/t.png)` became a remote tracking image in
every analyst's browser and `[click](http://evil.example)` a live link.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import mart_store  # noqa: F401 (fixture)

MAIN = str(Path(__file__).resolve().parents[2] / "src" / "mwdata" / "app" / "main.py")
EVIL = "![x](http://evil.example/t.png) [click](http://evil.example) <img src=http://evil.example/i.png>"
# elements whose body Streamlit renders as Markdown
MARKDOWN_KINDS = (
    "markdown",
    "caption",
    "info",
    "warning",
    "error",
    "success",
    "title",
    "subheader",
    "header",
)


def poison(store: Path, source: Path | None = None) -> Path:
    """A copy of the mart fixture (`source`, default: built small here) whose API text is all `EVIL`."""
    if source is None:
        from benchmarks import dashboard_data

        dashboard_data.build(store, users=40, days=20)
    else:
        shutil.copyfile(source, store)
    with duckdb.connect(str(store)) as con:
        con.execute(
            "UPDATE analytics.moveworks__journey SET content = ?, bot_reply = ?, label = ?, feedback = ?",
            [EVIL, EVIL, EVIL, EVIL],
        )
        con.execute(  # every call served, none used: the plugin is listed as "served but rarely used"
            "UPDATE analytics.moveworks__plugin_calls SET plugin_name = ?, served = true, used = false",
            [EVIL],
        )
        con.execute(
            "UPDATE analytics.moveworks__conversations SET route = ?, primary_domain = ?, platform = ?",
            [EVIL, EVIL, EVIL],
        )
    return store


@pytest.fixture
def evil_env(mart_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    store = poison(tmp_path / "evil.duckdb", mart_store)
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{store}"\n')
    for var in ("MWDATA_STORE", "MWDATA_PII", "MWDATA_DASHBOARD_PII"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MWDATA_CONFIG", str(cfg))
    return store


def _page(page: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.run()
    at.switch_page(f"screens/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _markdown_bodies(at: AppTest) -> list[str]:
    out = []
    for kind in MARKDOWN_KINDS:
        out += [str(e.value) for e in getattr(at, kind)]
        out += [str(e.value) for e in getattr(at.sidebar, kind)]
    return out


@pytest.mark.parametrize("page", ["journey", "plugins"])
def test_api_text_is_never_markdown(evil_env: Path, page: str) -> None:
    at = _page(page)
    texts = [t.value for t in at.text]
    leaked = [b for b in _markdown_bodies(at) if "evil.example" in b]
    assert leaked == [], f"API text reached a Markdown element: {leaked}"
    assert any(EVIL in t for t in texts), (
        "the crafted text is not shown at all (the test would prove nothing)"
    )
    if page == "journey":  # every turn's utterance, reply and label are there, as text
        assert sum(EVIL in t for t in texts) >= 3
