"""The dashboard in a real browser: Debian's chromium, driven by Playwright, over the sample
warehouse. Served live it loads nothing from outside the loopback; exported, it opens from
disk with the network cut. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route, sync_playwright

from tests.support.dashboard_truth import (
    RUN_CHARTS,
    a_filter,
    expected_cost,
    expected_marks,
    expected_pass_rate,
    export,
)
from tests.support.warehouse import DATASET, REPO, Warehouse

ARTIFACTS = REPO / "test-artifacts" / "dashboard"
# without the background-networking flags chromium keeps trying to reach the internet
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MARKS = "g.role-mark > path"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Watch:
    """What a page asked for and complained about."""

    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (.ci/run does it in CI). "
                    "This test drives the system browser; it never downloads one.")
    return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """A headless chromium with a fresh profile."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium(), args=FLAGS, headless=True,
            viewport={"width": 1400, "height": 4200},
        )
        try:
            yield context
        finally:
            context.close()


def watched(context: BrowserContext, allowed: set[str]) -> tuple[Page, Watch]:
    """A page whose requests outside `allowed` schemes/hosts are refused and recorded."""
    watch = Watch()

    def guard(route: Route, request: Request) -> None:
        url = urlparse(request.url)
        if url.scheme in allowed or url.hostname in allowed:
            route.continue_()
        else:
            watch.outside.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("requestfailed", lambda r: watch.failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: watch.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    return page, watch


def check_board(page: Page, watch: Watch, warehouse: Warehouse, shot: str) -> None:
    """Every chart drawn with the warehouse's marks, the headline numbers the warehouse's."""
    expected = expected_marks(warehouse)
    for chart in expected:
        page.wait_for_selector(f"[data-chart='{chart}'] {MARKS}", state="attached", timeout=90_000)
    drawn = {chart: page.locator(f"[data-chart='{chart}'] {MARKS}").count() for chart in expected}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    print(f"screenshot: {ARTIFACTS / shot}")
    assert drawn == expected
    shown = page.locator("[data-chart]").evaluate_all("els => els.map(e => e.dataset.chart)")
    assert sorted(shown) == sorted(expected), "no chart beyond those checked, none missing"
    assert page.locator("[data-kpi='pass-rate'] .value").inner_text() == expected_pass_rate(warehouse)
    assert page.locator("[data-kpi='cost'] .value").inner_text() == expected_cost(warehouse)
    ledger_rows = page.locator("[data-table='load_ledger'] tbody tr").count()
    assert ledger_rows == min(200, warehouse.count("load_ledger"))
    assert page.locator("[data-table='coverage_gaps'] tbody tr").count() == warehouse.count("coverage_gaps")
    assert not watch.outside, f"asked outside: {watch.outside}"
    assert not watch.failed, f"failed requests: {watch.failed}"
    assert not watch.errors, f"console errors: {watch.errors}"


@pytest.fixture
def served(sample_warehouse: Warehouse, tmp_path: Path) -> Iterator[str]:
    """`armature-pipeline dashboard` on a free loopback port; yields its URL."""
    command = [sys.executable, "-m", "armature_pipeline.cli", "dashboard", "--duckdb",
               str(sample_warehouse.db_path), "--dataset", DATASET, "--port", "0"]
    log = tmp_path / "dashboard.log"
    with log.open("w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=REPO)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Dashboard at http://127.0.0.1:"), line + log.read_text()
        yield line.split()[2]
    finally:
        process.terminate()
        try:  # marimo's server keeps serving an open page's websocket for a while: no need to wait
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_served_dashboard_draws_every_chart_from_the_warehouse_and_asks_nothing_outside(
    served: str, browser: BrowserContext, sample_warehouse: Warehouse,
) -> None:
    page, watch = watched(browser, LOOPBACK | {"ws", "data", "blob"})
    started = time.monotonic()
    page.goto(served)
    check_board(page, watch, sample_warehouse, "live.png")
    print(f"live dashboard drawn in {time.monotonic() - started:.1f} s")
    # the page stays open on the read copy: the warehouse must still be free for the next load
    writer = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
                             str(sample_warehouse.db_path)], capture_output=True, text=True, timeout=60)
    assert writer.returncode == 0, writer.stderr


def test_the_exported_file_draws_the_same_charts_with_the_network_cut(
    browser: BrowserContext, sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    path = export(sample_warehouse, tmp_path / "armature-dashboard.html", DATASET)
    browser.set_offline(True)
    page, watch = watched(browser, {"file", "data"})
    page.goto(path.as_uri())
    check_board(page, watch, sample_warehouse, "export.png")
    assert page.locator("script").count() == 0


def test_the_filters_narrow_every_chart_in_the_browser(
    served: str, browser: BrowserContext, sample_warehouse: Warehouse,
) -> None:
    filters, kept = a_filter(sample_warehouse)
    narrowed, whole = expected_marks(sample_warehouse, kept), expected_marks(sample_warehouse)
    page, watch = watched(browser, LOOPBACK | {"ws", "data", "blob"})
    query = urlencode({"from": str(filters.start), "to": str(filters.end), "workflow": filters.workflows[0],
                       "model": filters.models[0]})
    page.goto(f"{served}?{query}")
    page.wait_for_selector("[data-filters]", state="attached", timeout=90_000)
    for chart in (*RUN_CHARTS, "session_outcomes"):
        if narrowed[chart]:
            page.wait_for_selector(f"[data-chart='{chart}'] {MARKS}", state="attached", timeout=90_000)
    drawn = {chart: page.locator(f"[data-chart='{chart}'] {MARKS}").count() for chart in narrowed}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "filtered.png"), full_page=True)
    for chart in (*RUN_CHARTS, "session_outcomes"):
        assert drawn[chart] == narrowed[chart], (chart, drawn, narrowed)
    assert any(narrowed[c] < whole[c] for c in (*RUN_CHARTS, "session_outcomes"))
    assert drawn["load_ledger"] == whole["load_ledger"]
    said = page.locator("[data-filters]").inner_text()
    assert filters.workflows[0] in said and filters.models[0] in said, said
    assert page.locator("[data-kpi='pass-rate'] .value").inner_text() == expected_pass_rate(sample_warehouse, kept)
    # the widgets hold what the address asked for
    assert page.get_by_text(filters.workflows[0]).count() >= 2  # in its widget and in the line above the charts
    assert not watch.outside and not watch.failed and not watch.errors, watch
