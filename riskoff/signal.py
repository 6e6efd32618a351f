"""Deprecated alias of ``riskoff.signals.contract``, ``riskoff.signals.evaluate`` (moved in 0.2, removed in 0.3); import from there."""
from riskoff.util.moved import moved_module

__getattr__, __dir__ = moved_module("riskoff.signal", ["riskoff.signals.contract", "riskoff.signals.evaluate"], globals())
