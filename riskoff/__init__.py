"""riskoff: backtest regime (de-risking) strategies across documented sell-offs, point-in-time.

The small public API::

    from riskoff import Param, RISK_ON, CAUTION, RISK_OFF, signal_frame, load
"""
from riskoff.data import load
from riskoff.errors import ConfigError, DataError, PluginError, RiskoffError
from riskoff.params import Param
from riskoff.signal import CAUTION, RISK_OFF, RISK_ON, signal_frame, states_from_levels

__version__ = "0.1.0"
__all__ = ["Param", "RISK_ON", "CAUTION", "RISK_OFF", "signal_frame", "states_from_levels", "load",
           "RiskoffError", "DataError", "ConfigError", "PluginError", "__version__"]
