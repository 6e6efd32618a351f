"""The terminal rendering of ``riskoff now``: a decision table, an input table and the notes.

Reads a :class:`riskoff.run.now.Readout` (or its JSON form) only; nothing here decides anything.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

EXIT_MEANING = {0: "every input fresh, every rule fully invested", 3: "a rule decided a target below 1",
                4: "an input is stale", 5: "a rule decided a target below 1 and an input is stale"}


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns, box=box.SIMPLE_HEAD, header_style="bold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    with open(os.devnull, "w") as sink:
        console = Console(width=None if sys.stdout.isatty() else 250, record=True, file=sink,
                          force_terminal=False, color_system=None)
        console.print(t)
        body = "\n".join(line.rstrip() for line in console.export_text().splitlines()).strip("\n")
    return title + "\n" + body


def _w(x: float) -> str:
    return f"{x:.0%}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x:.1%}"


def _short(stamp: str | None) -> str:
    return "" if not stamp else stamp.replace("T", " ").replace(":00Z", "Z")


def render(doc: Mapping[str, Any]) -> str:
    """The read-out as text: header, one row per strategy x asset, one row per input, notes, exit status."""
    head = (f"riskoff now: {doc['config']} as of {_short(doc['as_of'])} (UTC); data dir {doc['data_dir']} "
            f"(from {doc['data_dir_from']})")
    if doc.get("run_end"):
        head += f"; the data supports a run to {doc['run_end']} (limited by {doc['run_end_limited_by']})"
    rows = []
    for r in doc["records"]:
        pending = f"yes, fills {_short(r['fills_at'])}" if r["pending"] and r["fills_at"] else \
            ("yes" if r["pending"] else "")
        flip = f"{r['last_flip']['signal']} {_short(r['last_flip']['at'])}" if r["last_flip"] else ""
        # only the signals that are not risk-on: the ones holding the rule back (or blind)
        states = "; ".join(f"{s['label']} {s['state']}" for s in r["signals"] if s["state"] != "risk-on")
        nxt = f"{r['next_release']['series']} {_short(r['next_release']['at'])}" + (
            " (modelled)" if r["next_release"]["basis"].startswith("modelled") else "") if r["next_release"] else ""
        asset = f"{r['asset']} (book)" if r.get("kind") == "book" else r["asset"]
        rows.append([r["strategy"] + (" (baseline)" if r["baseline"] else ""), asset, r["bar"],
                     _w(r["decided"]), _w(r["held"]), pending, _short(r["changed_at"]), states, flip, nxt])
    decisions = _table(["strategy", "asset", "bar", "decided", "held", "pending", "changed at",
                        "signals not risk-on", "last flip", "next release"], rows,
                       "decisions (decided at the bar's decision instant; held = filled per run.fill = "
                       f"{doc['fill']})")
    irows = []
    for i in doc["inputs"]:
        irows.append([i["series"] + ("" if i["required"] else " (optional)"), i["last_observation"] or "-",
                      _short(i["published_at"]) or "-", "" if i["age_days"] is None else f"{i['age_days']:.1f}",
                      i["max_stale_days"], ("STALE" if i["required"] else "stale, optional") if i["stale"] else "ok",
                      (_short(i["next_release"]) or "-") + (" (modelled from the catalog lag)"
                                                            if i["next_release_basis"].startswith("modelled") else ""),
                      i["live_source"] or "none"])
    inputs = _table(["series", "last obs", "published", "age (d)", "max stale", "status", "next release",
                     "live source"], irows, "inputs (as published by the instant)")
    notes = "\n".join(f"- {n}" for n in doc["notes"])
    code = doc["exit_code"]
    tail = f"exit {code}: {EXIT_MEANING[code]}"
    return "\n\n".join(x for x in (head, decisions, inputs, notes, tail) if x)


def render_changes(changes: Sequence[str], since: str | None, code: int) -> str:
    """What changed since the state file's read-out (``--state``)."""
    if not changes:
        body = f"no change since {_short(since)}" if since else "no change"
    else:
        head = f"changes since {_short(since)}:" if since else "changes:"
        body = head + "\n" + "\n".join(f"- {c}" for c in changes)
    return body + f"\nexit {code}: {EXIT_MEANING[code]}"
