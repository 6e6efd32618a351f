"""The engine stage: fills, costs and cash, bar by bar.

``account`` holds the shared per-bar account steps (``account_bar_nb`` and the order steps) and the
simulators built on them (compiled single-asset and shared-cash accounts, and the vectorbt path);
``event_driven`` runs each asset on its own clock from publication-time events; ``cash`` is the
money-market rate uninvested cash earns; ``metrics`` the one numba implementation of every
full-period and window figure; ``annualisation`` the periods per year of each calendar and bar.
"""
