"""``[[strategies]]`` tables parsed into frozen strategy configs.

Configs (frozen dataclasses, or ``[[strategies]]`` tables in a backtest TOML)::

    [[strategies]]
    name = "vix_or_breadth"
    rule = "any_off"
    signals = ["vix_mean_reversion", { name = "breadth_collapse", params = { collapse_level = 15 } }]
    params = { off_exposure = 0.0 }
    overlays = { min_bars_out = 5, cooldown_bars = 3 }
    assets = ["SPY", "QQQ"]

A signal entry is a name or a table ``{ name, params, label }``; ``label`` (default: the name)
names its column, so the same signal can appear twice with different params.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from riskoff.strategies.contract import (
    StrategyRegistry,
    StrategySpec,
    check_rule_params,
    default_signals,
    default_strategies,
)
from riskoff.strategies.overlays import Overlays
from riskoff.util.config_helpers import freeze
from riskoff.util.durations import params_on_clock
from riskoff.util.errors import ConfigError, RiskoffError
from riskoff.util.params import resolve_params

__all__ = ["SignalRef", "StrategyConfig", "strategy_from_toml", "validate_config"]


# --------------------------------------------------------------------------------------------
# Config objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignalRef:
    """One signal a strategy reads: its plug-in name, params and column label (default: name)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"signal name must be a non-empty string, not {self.name!r}")
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"signal {self.name}: params must be a table, not {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if not isinstance(self.label, str):
            raise ConfigError(f"signal {self.name}: label must be a string, not {self.label!r}")

    def __hash__(self) -> int:
        return hash((self.name, freeze(self.params), self.label))


@dataclass(frozen=True)
class StrategyConfig:
    """One strategy: a rule over some signals, its params, overlays and the assets it trades."""

    name: str
    rule: str
    signals: tuple[SignalRef, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    overlays: Overlays = field(default_factory=Overlays)
    assets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"strategy name must be a non-empty string, not {self.name!r}")
        if not isinstance(self.rule, str) or not self.rule:
            raise ConfigError(f"strategy {self.name}: rule must be a non-empty string, not {self.rule!r}")
        sigs = self.signals
        if isinstance(sigs, (str, SignalRef)):
            sigs = (sigs,)
        refs = tuple(s if isinstance(s, SignalRef) else SignalRef(s) if isinstance(s, str)
                     else SignalRef(**s) if isinstance(s, Mapping) else _bad_signal(self.name, s) for s in sigs)
        labels = [r.label for r in refs]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ConfigError(f"strategy {self.name}: signal label(s) {dup} appear twice; give each "
                              "copy a distinct label = \"...\"")
        object.__setattr__(self, "signals", refs)
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"strategy {self.name}: params must be a table, not {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))
        if isinstance(self.overlays, Mapping):
            object.__setattr__(self, "overlays", Overlays(**self.overlays))
        if not isinstance(self.overlays, Overlays):
            raise ConfigError(f"strategy {self.name}: overlays must be a table, not {self.overlays!r}")
        assets = (self.assets,) if isinstance(self.assets, str) else tuple(self.assets)
        if not all(isinstance(a, str) and a for a in assets):
            raise ConfigError(f"strategy {self.name}: assets must be a list of series IDs, not {self.assets!r}")
        object.__setattr__(self, "assets", assets)

    def __hash__(self) -> int:
        return hash((self.name, self.rule, self.signals, freeze(self.params), self.overlays, self.assets))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.signals)

    def on_clock(self, bar: str, strategies: StrategyRegistry | None = None, signals=None) -> "StrategyConfig":
        """This config with every duration given as a time span converted to bars of ``bar``
        (overlays, and whole-number rule and signal parameters such as ``window``)."""
        strategies = strategies if strategies is not None else default_strategies()
        signals = signals if signals is not None else default_signals()
        rule = strategies.get(self.rule)
        refs = tuple(replace(r, params=params_on_clock(signals.get(r.name).params, r.params, bar,
                                                       f"strategy {self.name}: signal {r.label}"))
                     for r in self.signals)
        return replace(self, params=params_on_clock(rule.params, self.params, bar, f"strategy {self.name}"),
                       signals=refs, overlays=self.overlays.on_clock(bar))


def _bad_signal(name: str, s: Any):
    raise ConfigError(f"strategy {name}: a signal must be a name or a table {{ name, params, label }}, not {s!r}")


def strategy_from_toml(table: Mapping, where: str, *, validate: bool = True,
                       strategies: StrategyRegistry | None = None, signals=None) -> StrategyConfig:
    """Parse one ``[[strategies]]`` table; errors name ``where`` and the key.

    With ``validate`` (default) the rule and signal names and all params are checked against
    the discovered plug-ins (``strategies``/``signals`` registries, default: the project's).
    """
    from riskoff.strategies.schema import StrategyTable
    from riskoff.util.schema import check

    typed = check(StrategyTable, table, where)  # types and allowed keys; names and params below
    where = f"{where} ({typed.name})"
    refs = [SignalRef(s) if isinstance(s, str) else SignalRef(s.name, s.params, s.label or "") for s in typed.signals]
    ov = {k: v for k, v in typed.overlays.model_dump().items() if v is not None}
    try:
        cfg = StrategyConfig(name=typed.name, rule=typed.rule, signals=tuple(refs), params=typed.params,
                             overlays=Overlays(**ov), assets=tuple(typed.assets))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if validate:
        try:
            validate_config(cfg, strategies=strategies, signals=signals)
        except RiskoffError as exc:
            raise type(exc)(f"{where}: {exc}") from None
    return cfg


def validate_config(cfg: StrategyConfig, *, strategies: StrategyRegistry | None = None, signals=None
                    ) -> tuple[StrategySpec, dict[str, Any], list[tuple[SignalRef, Any, dict[str, Any]]]]:
    """Check names and params without loading data; return (rule spec, params, [(ref, spec, params)])."""
    strategies = strategies if strategies is not None else default_strategies()
    signals = signals if signals is not None else default_signals()
    owner = f"strategy {cfg.name} (rule {cfg.rule})"
    spec = strategies.get(cfg.rule)
    params = spec.resolve(params_on_clock(spec.params, cfg.params, None, owner), owner)
    if spec.needs_signals and not cfg.signals:
        raise ConfigError(f"{owner}: the rule reads signal states; list at least one signal in signals = [...]")
    resolved = []
    for ref in cfg.signals:
        sspec = signals.get(ref.name)
        where = f"strategy {cfg.name}: signal {ref.label}"
        sparams = resolve_params(sspec.params, params_on_clock(sspec.params, ref.params, None, where), where)
        resolved.append((ref, sspec, sparams))
    check_rule_params(spec, cfg.labels, params, owner)
    return spec, params, resolved
