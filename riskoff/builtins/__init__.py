"""The shipped plug-ins and catalogs, as installed: ``riskoff.builtins.signals``, ``.strategies`` and
``.data`` (catalog.toml, windows.toml).

In the source tree they stay in the top-level ``signals/``, ``strategies/`` and ``data/``
folders; ``setup.py`` maps those folders here when building a wheel or an editable
install, and :mod:`riskoff.util.paths` finds them in either layout.
"""
