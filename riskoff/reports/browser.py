"""Driving a headless Chromium: the DOM after scripts ran, console errors, screenshots.

Used by the browser tests and to produce the screenshots in ``docs/``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "dump_dom", "screenshot"]

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_CONSOLE_RE = re.compile(r":CONSOLE[:(]|Uncaught")


def find_chromium() -> str | None:
    """Locate a Chromium/Chrome binary (``RISKOFF_CHROMIUM`` first, then the usual names on PATH).

    Returns:
        The executable path, or None when none is installed.
    """
    env = os.environ.get("RISKOFF_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(html_path: str | os.PathLike, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    chrome = find_chromium()
    if chrome is None:
        raise FileNotFoundError("Chromium not found: install the Debian package `chromium` "
                                "(apt-get install -y chromium) or set RISKOFF_CHROMIUM")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="riskoff-chromium-") as profile:
        # Offline, no first-run/background traffic; a throwaway profile so runs never interfere.
        cmd = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(html_path: str | os.PathLike, timeout: float = 120,
             window_size: tuple[int, int] | None = None) -> tuple[str, list[str]]:
    """Load a page in headless Chromium and return its DOM after scripts ran, plus console output.

    Args:
        html_path: a local HTML file (loaded through ``file://``).
        timeout: seconds before the browser is killed.
        window_size: ``(width, height)`` of the window in pixels, for layout checks (Chromium's
            default when None).

    Returns:
        ``(dom, console_lines)``: the serialised DOM and every browser log line that reports a page
        console message or an uncaught exception (an empty list for a clean page).
    """
    size = [f"--window-size={window_size[0]},{window_size[1]}"] if window_size else []
    proc = _run_chromium(html_path, ["--dump-dom", *size], timeout)
    if proc.returncode != 0 and not proc.stdout:
        raise RuntimeError(f"chromium failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    console = [line for line in proc.stderr.splitlines() if _CONSOLE_RE.search(line)]
    return proc.stdout, console


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1280,
               height: int = 2200, timeout: float = 120) -> Path:
    """Save a PNG screenshot of a local HTML page rendered by headless Chromium.

    Args:
        html_path: the page (for example a run's ``report.html``).
        png_path: where to write the PNG; parent folders are created.
        width: viewport width in pixels.
        height: viewport height in pixels (the capture is the top of the page, this tall).
        timeout: seconds before the browser is killed.

    Returns:
        The PNG path.
    """
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)  # so a stale file can never pass for a fresh capture
    proc = _run_chromium(html_path, [f"--screenshot={png_path}", f"--window-size={width},{height}"], timeout)
    if not png_path.is_file() or png_path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return png_path
