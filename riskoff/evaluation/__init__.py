"""The evaluation stage: what a simulated pair did, over the whole run and in each sell-off window.

``windows`` reads the sell-off window catalog; ``evaluate`` computes full-period statistics,
per-window protection (drawdown avoided, lead time, re-entry lag), de-risk episodes and false
alarms; ``scorecard`` grades every signal over every drawdown of each asset's history. The
random-timing null and the bootstraps live next door in ``riskoff.significance``.
"""
