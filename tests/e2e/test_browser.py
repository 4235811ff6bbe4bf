"""Real headless Chromium opens every page of a running dashboard: no error element, screenshots saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mwdata.app import views
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.slow(seconds=80)  # scheduled first (tests/conftest.py)

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


def _settle(page: Any) -> None:
    page.wait_for_function(RENDERED, timeout=60_000)
    page.wait_for_timeout(500)
    page.wait_for_function(RENDERED, timeout=60_000)


def _metric(page: Any, label: str) -> int:
    tile = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True)).first
    return int(tile.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def _listed_rows(page: Any) -> int:
    """Rows of the drill-down table, from the grid's accessible row count (minus its header row)."""
    grid = page.locator('[data-testid="stDataFrame"] [aria-rowcount]').first
    return int(grid.get_attribute("aria-rowcount")) - 1


def _open_drill(page: Any, expected: int, url_part: str) -> None:
    page.wait_for_url(f"**/drill?**{url_part}**", timeout=60_000)
    page.get_by_role("heading", name="Drill-down", level=1).wait_for(timeout=60_000)
    _settle(page)
    assert _metric(page, page.locator('[data-testid="stMetricLabel"]').first.inner_text()) == expected
    assert _listed_rows(page) == expected > 0


@pytest.mark.browser
def test_drill_down_in_chromium(browser: Any, running_dashboard: Any, mart_config: Path) -> None:
    """Click a plugins bar and an overview tile, land on the rows behind each (they add up to the
    number clicked), open one journey, and reload the shared drill-down link to the same view."""
    import re
    from urllib.parse import parse_qs, urlparse

    url = running_dashboard(mart_config)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/plugins", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Plugins", level=1).wait_for(timeout=60_000)
        _settle(page)
        bars = page.locator('[data-testid="stVegaLiteChart"]').first.locator(
            'path[aria-roledescription="bar"]'
        )
        labels = [bars.nth(i).get_attribute("aria-label") or "" for i in range(bars.count())]
        i = next(i for i, lb in enumerate(labels) if "measure: used" in lb)
        clicked = int(re.search(r"value: ([\d,]+)", labels[i]).group(1).replace(",", ""))  # type: ignore[union-attr]
        plugin = re.search(r"plugin_name: ([^;]+);", labels[i]).group(1)  # type: ignore[union-attr]
        box = bars.nth(i).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _open_drill(page, clicked, "measure=used")
        shared = page.url
        assert parse_qs(urlparse(shared).query)["by_plugin"] == [plugin]
        page.screenshot(path=str(ARTIFACTS / "drill-plugin.png"), full_page=True)

        # one journey: select the first listed row (its selection box, left of the first cell)
        grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        page.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)
        page.wait_for_url("**/journey?**conversation=**", timeout=60_000)
        conv = parse_qs(urlparse(page.url).query)["conversation"][0]
        page.get_by_role("heading", name="Journey explorer", level=1).wait_for(timeout=60_000)
        page.get_by_text(conv, exact=True).and_(page.locator("span")).first.wait_for(
            timeout=60_000
        )  # not its row in the list
        page.get_by_text(f"plugin {plugin}: ", exact=False).first.wait_for(timeout=60_000)

        # an overview tile: its link lists the conversations it counts
        page.goto(f"{url}/", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Executive overview", level=1).wait_for(timeout=60_000)
        _settle(page)
        tile = _metric(page, "Conversations")
        page.get_by_role("link", name="List conversations").click()
        _open_drill(page, tile, "measure=conversations")

        # a point of a line chart: the conversations of one day
        page.go_back()
        page.get_by_role("heading", name="Executive overview", level=1).wait_for(timeout=60_000)
        _settle(page)
        points = page.locator('[data-testid="stVegaLiteChart"]').first.locator(
            'path[aria-roledescription="point"]'
        )
        labels = [points.nth(i).get_attribute("aria-label") or "" for i in range(points.count())]
        i = next(i for i, lb in enumerate(labels) if "series: conversations" in lb and "value: 0;" not in lb)
        day_value = int(re.search(r"value: ([\d,]+)", labels[i]).group(1).replace(",", ""))  # type: ignore[union-attr]
        box = points.nth(i).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _open_drill(page, day_value, "by_day=")
    finally:
        page.close()

    again = browser.new_page(viewport={"width": 1400, "height": 1000})  # a new session: the link alone
    try:
        again.goto(shared, wait_until="domcontentloaded")
        _open_drill(again, clicked, "measure=used")
        again.get_by_text(f"plugin calls · used · plugin = {plugin}", exact=True).wait_for(timeout=30_000)
    finally:
        again.close()
