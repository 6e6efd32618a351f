"""Baseline: hold a constant exposure (default 1.0 = fully invested) on every bar."""
import pandas as pd

from riskoff import Param

NEEDS_SIGNALS = False
PARAMS = [Param("exposure", 1.0, low=0.0, high=10.0, description="constant exposure")]


def target(ctx, exposure=1.0):
    return pd.Series(float(exposure), index=ctx.close.index, dtype="float64")
