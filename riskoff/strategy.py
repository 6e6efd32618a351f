"""Deprecated alias of ``riskoff.strategies.contract``, ``riskoff.strategies.config``, ``riskoff.strategies.compose``, ``riskoff.strategies.exposure``, ``riskoff.strategies.overlays`` (moved in 0.2, removed in 0.3); import from there."""
from riskoff.util.moved import moved_module

__getattr__, __dir__ = moved_module("riskoff.strategy", ["riskoff.strategies.contract", "riskoff.strategies.config", "riskoff.strategies.compose", "riskoff.strategies.exposure", "riskoff.strategies.overlays"], globals())
