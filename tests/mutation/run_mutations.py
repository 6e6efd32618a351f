"""Mutation check of riskoff's core: apply each named mutation (tests/mutation/mutations.py) to a
temporary copy of this checkout, run only the test files that defend that behaviour, and print a
table mutation -> tests that failed (killed) or SURVIVED.

Not part of the default test run (it takes minutes); run it explicitly:

    RISKOFF_MUTATIONS=1 RISKOFF_DATA_DIR=/path/to/data python tests/mutation/run_mutations.py [-k NAME] [--json FILE]

On a shared machine queue it behind other heavy jobs:
``flock /tmp/riskoff-heavy.lock nice -n 5 ...``. Every original snippet must occur exactly once in
its file; otherwise the check stops before running anything and names the mutation to re-point.
The unmutated suite is run first on the same test files: a red baseline makes every kill
meaningless, so it aborts. Exit status: 0 when every mutation is killed or marked equivalent,
1 when one survives, 2 on a setup problem.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from mutations import MUTATIONS, Mutation  # noqa: E402

ENV_FLAG = "RISKOFF_MUTATIONS"
SKIP_DIRS = {".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", "results", "cache", "node_modules"}
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)")


def snippet_problems(root: Path, mutations: list[Mutation]) -> list[str]:
    """One sentence per mutation whose original snippet is not found exactly once."""
    out = []
    for m in mutations:
        path = root / m.file
        n = path.read_text().count(m.original) if path.exists() else -1
        if n != 1:
            where = "the file is missing" if n < 0 else f"the original snippet occurs {n} times"
            out.append(f"mutation {m.name}: {m.file}: {where} (expected once); re-point it in tests/mutation/mutations.py")
        for t in m.tests:
            if not (root / t).exists():
                out.append(f"mutation {m.name}: test file {t} does not exist")
    return out


def copy_checkout(src: Path, dst: Path) -> None:
    """Source, tests, plug-ins and catalogs, with their modification times (numba's cache keys)."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".riskoff")]
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in filenames:
            shutil.copy2(Path(dirpath) / f, dst / rel / f)


def run_tests(work: Path, tests: tuple[str, ...] | list[str], maxfail: int) -> tuple[int, list[str], float]:
    env = dict(os.environ, PYTHONPATH=str(work), NUMBA_CACHE_DIR=str(work / ".numba-cache"), MPLBACKEND="Agg")
    if env.get("RISKOFF_DATA_DIR"):  # the tests run from the copy: a relative data dir would point elsewhere
        env["RISKOFF_DATA_DIR"] = str(Path(env["RISKOFF_DATA_DIR"]).expanduser().resolve())
    env.pop(ENV_FLAG, None)
    cmd = [sys.executable, "-m", "pytest", *tests, "-q", "-rfE", f"--maxfail={maxfail}", "-p", "no:cacheprovider",
           "--hypothesis-seed=0", "-o", "addopts="]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    shutil.rmtree(work / ".hypothesis", ignore_errors=True)  # no example database carried between mutants
    failed = [m.group(1) for line in proc.stdout.splitlines() if (m := FAILED.match(line))]
    if proc.returncode not in (0, 1) and not failed:  # collection or import error: the mutant crashed the tests
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
        failed = [f"(pytest exit {proc.returncode}: {tail[0][:100]})"]
    return proc.returncode, failed, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", dest="select", default="", help="run only mutations whose name contains this")
    ap.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    ap.add_argument("--maxfail", type=int, default=3, help="stop a mutant's test run after this many failures")
    args = ap.parse_args(argv)
    if os.environ.get(ENV_FLAG) != "1":
        print(f"the mutation check takes minutes; run it with {ENV_FLAG}=1 (see the docstring)", file=sys.stderr)
        return 2
    chosen = [m for m in MUTATIONS if args.select in m.name]
    problems = snippet_problems(ROOT, chosen)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="riskoff-mutants-") as tmp:
        work = Path(tmp)
        copy_checkout(ROOT, work)
        all_tests = sorted({t for m in chosen for t in m.tests})
        rc, failed, secs = run_tests(work, all_tests, maxfail=1)
        print(f"baseline (unmutated): {len(all_tests)} test files, exit {rc}, {secs:.0f} s", flush=True)
        if rc != 0:
            print(f"the unmutated suite fails ({failed}); fix that first", file=sys.stderr)
            return 2
        for m in chosen:
            target = work / m.file
            original, stat = target.read_text(), target.stat()
            target.write_text(original.replace(m.original, m.replacement, 1))
            try:
                rc, failed, secs = run_tests(work, m.tests, args.maxfail)
            finally:  # the copy's own text and mtime (not the checkout's, which may change meanwhile):
                target.write_text(original)  # numba's cache of the unmutated kernels stays valid
                os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            crashed = rc not in (0, 1) or (failed and all(not f.count("::") for f in failed))
            status = ("killed (crash)" if crashed else "killed") if rc != 0 else (
                "equivalent" if m.equivalent else "SURVIVED")
            rows.append({"mutation": m.name, "file": m.file, "status": status, "failed_tests": failed,
                         "tests_run": list(m.tests), "seconds": round(secs, 1), "why": m.why,
                         "equivalent": m.equivalent})
            print(f"{m.name:<58} {status:<10} {secs:5.0f} s  {', '.join(failed[:3])}", flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    survivors = [r for r in rows if r["status"] == "SURVIVED"]
    print(f"\n{len(rows)} mutations: {sum(r['status'].startswith('killed') for r in rows)} killed "
          f"({sum(r['status'] == 'killed (crash)' for r in rows)} of them by a crash, not an assertion), "
          f"{sum(r['status'] == 'equivalent' for r in rows)} equivalent, {len(survivors)} survived")
    return 1 if survivors else 0


def table(rows: list[dict]) -> str:
    """Markdown table: mutation | file | result | tests that failed (the first three)."""
    lines = ["| mutation | file | result | tests that failed |", "|---|---|---|---|"]
    for r in rows:
        shown = "; ".join(t.split("::", 1)[-1] if "::" in t else t for t in r["failed_tests"][:3]) or "-"
        if r["status"] == "equivalent":
            shown = "equivalent: " + r["equivalent"]
        lines.append(f"| {r['mutation']} | {r['file']} | {r['status']} | {shown} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
