"""Pages in browser engines other than Chromium, for tests and bench/sync.py.

- Firefox ESR (Debian's `firefox-esr`), driven over WebDriver BiDi by puppeteer-core from npm
  (`tests/firefox_bridge.mjs`, a small Node process spoken to in JSON lines).
- WebKit (WebKitGTK, Debian's `webkit2gtk-driver`): `WebKitWebDriver` driving its MiniBrowser
  under Xvfb, through Selenium.

Both give the same small surface as the Chromium pages of the bench: `evaluate(expression)`
(a JavaScript function source, called with no argument) and `timed_now()`, one reading of the
page's `performance.now()` bracketed by this process's `time.time()` — what the tests and the
bench map a page's clock with, never the page's own estimate of the server's clock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from .live import ROOT, free_port, stop_process, wait_for

FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
MINIBROWSER = os.environ.get("MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
BRIDGE = ROOT / "tests" / "firefox_bridge.mjs"
NODE = shutil.which("node") or "node"


def firefox_missing() -> str | None:
    """Why Firefox pages cannot be opened here, or None."""
    if not Path(FIREFOX).exists():
        return f"{FIREFOX} is not installed (apt-get install firefox-esr)"
    if not (ROOT / "node_modules" / "puppeteer-core").exists():
        return "puppeteer-core is not installed (npm ci)"
    return None


def webkit_missing() -> str | None:
    """Why WebKit pages cannot be opened here, or None."""
    for path, package in (
        (WEBKIT_DRIVER, "webkit2gtk-driver"),
        (MINIBROWSER, "libwebkit2gtk-4.1-0"),
    ):
        if not Path(path).exists():
            return f"{path} is not installed (apt-get install {package})"
    if not shutil.which("Xvfb"):
        return "Xvfb is not installed (apt-get install xvfb)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    return None


class FirefoxBrowser:
    """One Firefox process; each page opened is its own window in its own user context."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [NODE, str(BRIDGE)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "FIREFOX": FIREFOX},
            text=True,
            bufsize=1,
        )
        self.count = 0
        self.lock = threading.Lock()
        hello = self._read()
        if not hello.get("ready"):
            raise RuntimeError(f"Firefox did not start: {hello}")
        self.version = "Firefox " + str(self.call("version")).split("/")[-1]

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Firefox bridge exited ({self.process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(self, op: str, **args: Any) -> Any:
        assert self.process.stdin is not None
        with self.lock:  # one command at a time: answers come back in order
            self.count += 1
            self.process.stdin.write(json.dumps({"id": self.count, "op": op, **args}) + "\n")
            answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"Firefox {op}: {answer['error']}")
        return answer["value"]

    def open(
        self, url: str, width: int = 640, height: int = 360, init: list[str] | None = None
    ) -> FirefoxPage:
        """A page at url; `init` scripts run in it before any of its own."""
        number = self.call("open", url=url, width=width, height=height, init=init or [])
        return FirefoxPage(self, number)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_process(self.process)


class FirefoxPage:
    engine = "firefox"

    def __init__(self, browser: FirefoxBrowser, number: int) -> None:
        self.browser = browser
        self.number = number

    def evaluate(self, function: str) -> Any:
        return self.browser.call("eval", page=self.number, expression=f"({function})()")

    def timed_now(self) -> tuple[float, float, float]:
        t0 = time.time()
        page_ms = self.evaluate("() => performance.now()")
        return t0, time.time(), float(page_ms)

    def close(self) -> None:
        self.browser.call("close", page=self.number)


class WebKitPage:
    """One MiniBrowser (WebKitGTK) window under its own Xvfb display, driven by WebKitWebDriver."""

    engine = "webkit"

    def __init__(self, url: str, width: int = 640, height: int = 360) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        self.display = f":{free_port() % 1000 + 100}"
        self.xvfb = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        options = Options()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        env = {**os.environ, "DISPLAY": self.display}
        service = Service(executable_path=WEBKIT_DRIVER, port=free_port(), env=env)
        try:
            # Selenium's own WebKitGTK class calls an API that Selenium deprecated.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self.driver = webdriver.WebKitGTK(options=options, service=service)
        except Exception:
            stop_process(self.xvfb)
            raise
        self.driver.set_window_rect(0, 0, width, height)
        self.version = "WebKitGTK " + str(self.driver.capabilities.get("browserVersion", "?"))
        wait_for(url)
        self.driver.get(url)

    def evaluate(self, function: str) -> Any:
        return self.driver.execute_script(f"return ({function})();")

    def timed_now(self) -> tuple[float, float, float]:
        t0 = time.time()
        page_ms = self.driver.execute_script("return performance.now();")
        return t0, time.time(), float(page_ms)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            stop_process(self.xvfb)
