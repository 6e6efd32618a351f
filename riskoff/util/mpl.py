"""Matplotlib set-up shared by every plotting path.

quantstats hard-codes the font "Arial", which Linux machines rarely have; matplotlib then logs a
"findfont" warning per text element. We alias "Arial" to the bundled DejaVu Sans (always present)
instead of silencing the logger, so real font problems still show.
"""
from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("MPLBACKEND", "Agg")


def configure() -> None:
    import matplotlib
    from matplotlib import font_manager as fm

    matplotlib.use("Agg", force=False)
    manager = fm.fontManager
    if not any(f.name == "Arial" for f in manager.ttflist):
        for entry in list(manager.ttflist):
            if entry.name == "DejaVu Sans":
                manager.ttflist.append(dataclasses.replace(entry, name="Arial"))
        manager._findfont_cached.cache_clear()  # type: ignore[attr-defined]
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    # SVG element ids are hashes salted with a random uuid by default; a fixed salt makes the same
    # figure the same bytes (the tearsheets are reproducible like the CSV outputs)
    matplotlib.rcParams["svg.hashsalt"] = "riskoff"
