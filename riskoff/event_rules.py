"""Deprecated alias of ``riskoff.strategies.event_rules`` (moved in 0.2, removed in 0.3); import from there."""
from riskoff.util.moved import moved_module

__getattr__, __dir__ = moved_module("riskoff.event_rules", ["riskoff.strategies.event_rules"], globals())
