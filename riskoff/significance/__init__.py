"""Skill or luck: inference for every claim a run or a sweep makes.

``null``        the matched random-timing null of one strategy on one asset (percentiles, p-values)
``bootstrap``   stationary-bootstrap intervals (arch) for the CAGR and Sharpe difference vs buy & hold
``overfitting`` Deflated Sharpe Ratio, PBO by CSCV and Hansen's SPA for sweeps (pure functions)
``run``         all of it over a run's strategy x asset pairs
``settings``    the ``[null]`` and ``[bootstrap]`` tables of a run config, and the per-asset engine inputs
"""
