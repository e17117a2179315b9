"""Debian's Chromium driven by Playwright, for the tests that need a real browser: never a
browser Playwright downloads (.ci/run installs the chromium package)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHANJIAO_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("CHANJIAO_REQUIRE_TOOLS") == "1"  # .ci/run: never skip
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed"
    if problem is None and not shutil.which(CHROMIUM):
        problem = f"{CHROMIUM} is not installed (Debian's chromium package)"
    if problem:
        if REQUIRED:
            pytest.fail(f"{problem} (CHANJIAO_REQUIRE_TOOLS=1)", pytrace=False)
        pytest.skip(problem)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
