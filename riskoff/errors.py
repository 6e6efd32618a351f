"""Deprecated alias of ``riskoff.util.errors`` (moved in 0.2, removed in 0.3); import from there."""
from riskoff.util.moved import moved_module

__getattr__, __dir__ = moved_module("riskoff.errors", ["riskoff.util.errors"], globals())
