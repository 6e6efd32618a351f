"""The strategy stage: a target exposure per asset per bar.

``contract`` is the rule plug-in contract (``StrategyContext``, ``PARAMS``, ``target``) and its
discovery; ``config`` parses ``[[strategies]]`` tables into frozen ``StrategyConfig`` objects;
``compose`` holds the helpers rule modules compose with (``off_votes``, ``reentry_latch``, ...);
``overlays`` the stateful per-bar overlay step; ``exposure`` the driver that runs config ->
signals -> rule -> overlays for one asset; ``event_rules`` the event-driven callback rules.
The built-in rules are plug-ins in the top-level ``strategies/`` folder.
"""
