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
    package_data={"riskoff.builtins.data": ["*.toml"]},
    exclude_package_data={"riskoff.builtins.data": ["cache/*"]},
)
