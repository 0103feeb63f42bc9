"""The report as a reviewer uses it in a real browser: clicks choose, accept and reject, and the decisions download.

Driven through WebDriver (selenium, with Debian's chromium and chromium-driver: scripts/setup-browser.sh);
skipped when any of them is missing.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import Edit, Evidence
from repair.files.editlist import dump_edits
from repair.views.report import render_report

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[dev])")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="chromium or chromedriver is missing (scripts/setup-browser.sh)"
)

SOURCE = "Rex said it 's clear Iran must go , and Russia alliance held .\n"


def at(text: str, after: str, kind: str, conf: float, **kw: Any) -> Edit:
    start = SOURCE.index(text)
    return Edit(start, start + len(text), text, after, kind, conf, (Evidence("rule:test", "made up"),), **kw)


EDITS = [
    at(" 's", "'s", "tokenization", 0.95),
    at("Iran", "that", "substitution", 0.3, applied=False, alternatives=(("that", 0.3), ("he", 0.25))),
    at(" ,", ",", "tokenization", 0.9),
    at("Russia", "Russia", "substitution", 0.2, applied=False, alternatives=(("its", 0.2),)),  # a question
    at(" .", ".", "tokenization", 0.9),
]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    src = tmp_path / "story.txt"
    src.write_text(SOURCE, encoding="utf-8")
    (tmp_path / "story.edits.json").write_text(
        dump_edits(SOURCE, EDITS, input_name=str(src), min_confidence=0.7), encoding="utf-8"
    )
    html = tmp_path / "story.report.html"
    html.write_text(render_report(SOURCE, EDITS, min_confidence=0.7, input_name=str(src)), encoding="utf-8")
    return html


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(path: Path) -> str:
    for _ in range(100):
        if path.exists() and path.stat().st_size:
            return path.read_text(encoding="utf-8")
        time.sleep(0.1)
    raise AssertionError(f"{path} was not downloaded")


def test_a_reviewer_chooses_rejects_and_downloads_decisions_that_review_applies(
    browser: Any, page: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert float(browser.find_element(By.ID, "conf").get_attribute("value")) == 0.7  # the run's threshold
    assert browser.find_element(By.ID, "conf-out").text == "0.70"
    cards = browser.find_elements(By.CSS_SELECTOR, "#edits > .cards > .card")
    assert [c.get_attribute("data-k") for c in cards] == ["substitution", "substitution"]  # content first
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    assert group.get_attribute("open") is None and "3 tokenization" in group.text  # surface fixes folded in one line
    assert "he" in cards[0].text and "0.25" in cards[0].text  # the alternatives, with their shares
    assert "question" in cards[1].text

    cards[0].find_element(By.CSS_SELECTOR, "button.pick:nth-of-type(1)")  # there is a button per alternative
    cards[0].find_elements(By.CSS_SELECTOR, "button.pick")[1].click()  # choose "he"
    cards[1].find_element(By.CSS_SELECTOR, "button[data-act=rejected]").click()  # keep "Russia"
    assert "chosen" in cards[0].text and "2 decisions made" in browser.find_element(By.ID, "made").text
    assert browser.find_element(By.ID, "out-1").text == "he"  # the repaired column follows the decision
    browser.find_element(By.ID, "save").click()
    made = json.loads(wait_for(tmp_path / "downloads" / "story.decisions.json"))
    assert [(d["before"], d["decision"], d.get("after")) for d in made["decisions"]] == [
        ("Iran", "chosen", "he"),
        ("Russia", "rejected", None),
    ]
    browser.refresh()  # the page keeps what was decided on it
    assert "2 decisions made" in browser.find_element(By.ID, "made").text

    decisions = tmp_path / "downloads" / "story.decisions.json"
    args = ["review", str(tmp_path / "story.txt"), str(tmp_path / "story.edits.json"), "--apply", str(decisions)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    reviewed = (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")
    assert reviewed == "Rex said it's clear he must go, and Russia alliance held.\n"


def test_the_popup_numbers_edits_as_the_cards_do_and_a_narrow_screen_stacks_the_columns(
    browser: Any, page: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri() + "#edit-2")
    pop = browser.find_element(By.ID, "pop")
    assert pop.get_attribute("data-e") == "1" and "edit 2" in pop.text and "Iran" in pop.text
    browser.set_window_size(400, 900)
    columns = browser.execute_script(
        "return getComputedStyle(document.getElementById('columns')).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1
