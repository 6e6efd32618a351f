"""Package layout that pyproject.toml cannot express: the top-level built-in folders, mapped in.

``signals/``, ``strategies/`` and ``data/*.toml`` stay where they are in the
checkout and install as ``riskoff.builtins.<folder>``, so a wheel carries every built-in and no
top-level ``signals`` or ``strategies`` package is ever installed. Everything else is in
pyproject.toml.
"""
from setuptools import find_packages, setup

BUILTINS = {f"riskoff.builtins.{name}": name for name in ("signals", "strategies", "data")}

setup(
    packages=find_packages(include=["riskoff", "riskoff.*"]) + list(BUILTINS),
    package_dir=BUILTINS,
    # plotly.js (cartesian partial bundle, MIT, from the npm package plotly.js-cartesian-dist-min),
    # embedded once into every report so the page works offline.
    package_data={"riskoff.builtins.data": ["*.toml"], "riskoff.reports": ["assets/*.js", "assets/*.txt"]},
    exclude_package_data={"riskoff.builtins.data": ["cache/*"]},
)
