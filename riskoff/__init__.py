"""riskoff: backtest regime (de-risking) strategies across documented sell-offs, point-in-time.

The small public API::

    from riskoff import Param, RISK_ON, CAUTION, RISK_OFF, signal_frame, load
"""
from riskoff.data import load
from riskoff.signals.contract import (
    CAUTION,
    RISK_OFF,
    RISK_ON,
    signal_frame,
    states_from_levels,
)
from riskoff.util.errors import ConfigError, DataError, PluginError, RiskoffError
from riskoff.util.params import Param

__version__ = "0.1.0"
__all__ = ["backtest", "Strategy", "Portfolio", "write", "Param", "RISK_ON", "CAUTION", "RISK_OFF", "signal_frame", "states_from_levels", "load",
           "RiskoffError", "DataError", "ConfigError", "PluginError", "__version__"]


def __getattr__(name: str):
    # The API pulls in the engine (numba, vectorbt); import it on first use so that plug-ins
    # importing `from riskoff import Param` stay light.
    if name in ("backtest", "Strategy", "Portfolio", "write"):
        from riskoff.run import api
        return getattr(api, name)
    raise AttributeError(f"module 'riskoff' has no attribute {name!r}")
