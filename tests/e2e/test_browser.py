"""Real headless Chromium opens every page of a running dashboard: no error element, screenshots saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mwdata.app import views
from tests.e2e.conftest import ARTIFACTS

# A page is rendered when Streamlit's running indicator and loading skeletons are gone, content is
# there, and every visible chart has drawn (charts in a hidden tab draw only when the tab is opened).
RENDERED = """() => {
  const q = (sel) => [...document.querySelectorAll(sel)];
  const content = '[data-testid="stMetric"], [data-testid="stVegaLiteChart"], [data-testid="stDataFrame"], '
    + '[data-testid="stChatMessage"], '
    + '[data-testid="stTable"], [data-testid="stAlert"], [data-testid="stException"]';
  return !document.querySelector('[data-testid="stStatusWidget"]')
    && q('[data-testid="stSkeleton"]').length === 0
    && q(content).length > 0
    && q('[data-testid="stVegaLiteChart"]').filter(e => e.checkVisibility()).every(e => e.querySelector('canvas, svg'));
}"""


def visit_every_page(browser: Any, url: str, tag: str) -> dict[str, str]:
    """Open each page by its URL, wait for its title and for Streamlit to finish; return page -> title."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen: dict[str, str] = {}
    try:
        for key, (title, _, _) in views.PAGES.items():
            page.goto(url + ("/" if key == "overview" else f"/{key}"), wait_until="domcontentloaded")
            page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
            # checked twice, 0.5 s apart: a rerun can start right after the first paint
            page.wait_for_function(RENDERED, timeout=60_000)
            page.wait_for_timeout(500)
            page.wait_for_function(RENDERED, timeout=60_000)
            errors = page.locator('[data-testid="stException"]')
            assert errors.count() == 0, f"{key}: {errors.first.inner_text()}"
            page.screenshot(path=str(ARTIFACTS / f"{tag}-{key}.png"), full_page=True)
            seen[key] = title
    finally:
        page.close()
    return seen


@pytest.mark.browser
def test_every_page_in_chromium(
    browser: Any, running_dashboard: Any, tmp_path: Path, mart_config: Path
) -> None:
    url = running_dashboard(mart_config)
    seen = visit_every_page(browser, url, "fixture")
    assert set(seen) == set(views.PAGES)
    assert all((ARTIFACTS / f"fixture-{k}.png").stat().st_size > 10_000 for k in seen)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp{,6} (no traffic needed)."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                found.add(addr)
    return found


def test_dashboard_binds_loopback_only(running_dashboard: Any, mart_config: Path) -> None:
    """`mwdata dashboard` (no browser needed): healthy, serves the app, listens on 127.0.0.1 only."""
    import urllib.request

    url = running_dashboard(mart_config)
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as resp:
        assert resp.read() == b"ok"
    with urllib.request.urlopen(url + "/", timeout=10) as resp:
        assert b"<html" in resp.read().lower()
    port = int(url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex


@pytest.mark.browser
def test_token_login_and_api_text_as_text(browser: Any, running_dashboard: Any, tmp_path: Path) -> None:
    """Issue 16 item 8: the token URL logs in (a cookie, then the WebSocket), and a store holding
    crafted utterances shows them as text: no link or image to evil.example, no request to it."""
    from tests.hardening.test_dashboard_markdown import EVIL, poison

    token = "a-long-dashboard-token-0123456789"
    secret = tmp_path / "token"
    secret.write_text(token)
    secret.chmod(0o600)
    cfg = tmp_path / "mwdata.toml"
    store = poison(tmp_path / "evil.duckdb")
    cfg.write_text(f'store = "{store}"\n[dashboard]\ntoken_file = "{secret}"\n')
    url = running_dashboard(cfg)
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(f"{url}/journey", wait_until="domcontentloaded")
        assert "needs its access token" in page.content()
        page.goto(f"{url}/journey?token={token}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Journey explorer", level=1).wait_for(timeout=60_000)
        page.get_by_text(EVIL).first.wait_for(timeout=60_000)
        assert "token=" not in page.url
        assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
        assert not [u for u in requested if "evil.example" in u]
    finally:
        page.close()
