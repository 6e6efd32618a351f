"""Books: several assets held together, de-risked sleeve by sleeve, with one cash balance.

A book (``[[portfolios]]`` in a run config, ``ro.Portfolio`` in Python) is a set of weights w,
a rebalancing rule, a risk-off destination and the strategies to run on it. This module holds
the book's config (:class:`PortfolioConfig`, parsed by :func:`parse_portfolios`, the one place
the table is read) and its targets formula (:func:`book_targets`); the shared-cash simulation is
``riskoff.engine.books``, the evaluation ``riskoff.evaluation.books``.

Targets. For strategy exposure e_i(t) in [0, 1] per asset (NaN counts as 0, as for a single
asset; an asset the strategy does not cover counts as 1; above 1 is an error in a book) and basket
shares d (summing to 1; an empty basket is cash): the freed weight F(t) = sum_k w_k (1 - e_k(t))
and target_i(t) = w_i e_i(t) + d_i e_i(t) F(t), so a basket member that is itself de-risked
receives no freed weight; the rest, 1 - sum of targets, is cash earning the money-market rate.
Targets depend only on w, e and d, never on simulated weights, so they are known at the decision
instant of the bar and carry no look-ahead the exposures do not already carry.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskoff.util.errors import ConfigError, did_you_mean
from riskoff.util.files import path_name

CASH = "CASH"
STATIC = "static"  # the strategy label of a book's baseline (same weights and rebalancing, no rule)
_SUM_TOL = 1e-9


@dataclass(frozen=True)
class PortfolioConfig:
    """One book: weights per asset (plus ``cash``, the weight an explicit ``CASH`` key holds), its
    rebalancing (``"monthly"``, ``"quarterly"``, ``"never"``, or ``"band"`` with ``band`` in weight
    points), its risk-off basket (asset -> share; empty = freed weight goes to cash) and the run
    strategies it is de-risked by (empty = every strategy of the run but the baseline)."""

    name: str
    weights: tuple[tuple[str, float], ...]
    rebalance: str = "monthly"
    band: float | None = None
    risk_off_into: tuple[tuple[str, float], ...] = ()
    strategies: tuple[str, ...] = ()
    cash: float = 0.0

    @property
    def assets(self) -> tuple[str, ...]:
        """The book's assets: its weights' keys, then basket members outside the weights."""
        own = [a for a, _ in self.weights]
        return tuple(own + [a for a, _ in self.risk_off_into if a not in own and a != CASH])

    @property
    def weight(self) -> dict[str, float]:
        return dict(self.weights)

    @property
    def basket(self) -> dict[str, float]:
        return {a: d for a, d in self.risk_off_into if a != CASH}

    @property
    def rebalance_label(self) -> str:
        return f"band {self.band:g}" if self.rebalance == "band" else self.rebalance

    def as_table(self) -> dict[str, Any]:
        """The book as a ``[[portfolios]]`` table (what :func:`parse_portfolios` reads back)."""
        weights = dict(self.weights) | ({CASH: self.cash} if self.cash else {})
        return {"name": self.name, "weights": weights,
                "rebalance": {"band": self.band} if self.rebalance == "band" else self.rebalance,
                "risk_off_into": dict(self.risk_off_into) or "cash", "strategies": list(self.strategies)}

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": dict(self.weights), "cash": self.cash,
                "rebalance": {"band": self.band} if self.rebalance == "band" else self.rebalance,
                "risk_off_into": dict(self.risk_off_into) or "cash", "strategies": list(self.strategies)}


def _check_asset(a: str, where: str, assets: Sequence[str], catalog: Mapping[str, Any] | None) -> None:
    if a in assets:
        spec = catalog.get(a) if catalog is not None else None
        if spec is not None and spec.is_bar_series:
            raise ConfigError(f"{where}: '{a}' is an intraday bar series ({spec.bar}); books are daily only, "
                              "use its daily price series")
        return
    if catalog is not None and a not in catalog:
        raise ConfigError(f"{where}: unknown asset '{a}'{did_you_mean(a, list(catalog))}; not in the data catalog")
    raise ConfigError(f"{where}: asset '{a}' is not covered by the run; add it to run.assets {list(assets)}")


def portfolio_tables(tables: Sequence[Mapping[str, Any]], source: str) -> list[Any]:
    """``[[portfolios]]`` tables given in code (``ro.Portfolio``, ``ro.backtest``) through the same typed
    schema a config's go through (riskoff.strategies.schema.PortfolioTable)."""
    from riskoff.strategies.schema import PortfolioTable
    from riskoff.util.schema import check

    return check(list[PortfolioTable], list(tables), source, "portfolios")


def parse_portfolios(tables: Sequence[Any], source: str, *, assets: Sequence[str], strategies: Sequence[str],
                     catalog: Mapping[str, Any] | None = None, baseline: str = "buy_and_hold"
                     ) -> tuple[PortfolioConfig, ...]:
    """The ``[[portfolios]]`` tables of a run config, validated (see the module docstring).

    ``tables``: the tables as the typed schema read them (:class:`riskoff.strategies.schema.PortfolioTable`:
    types, ranges and keys); here the checks across keys and tables: sums, assets, strategy names.
    ``assets``: the run's assets (a book trades only assets the run loads); ``strategies``: the
    run's strategy names; ``catalog``: tells an unknown asset from one the run does not load, and
    finds intraday bar series (books are daily only). Every problem is one ConfigError line naming
    the file, the table (``portfolios[i]``) and the key.
    """
    out: list[PortfolioConfig] = []
    for i, table in enumerate(tables):
        name = path_name(table.name, f"{source}: portfolios[{i}].name")
        where = f"{source}: portfolios[{i}] ({name})"
        w = dict(table.weights)
        cash = w.pop(CASH, None)
        total = sum(w.values()) + (cash or 0.0)
        if not w:
            raise ConfigError(f"{where}.weights: no asset; expected e.g. {{ SPY = 0.6, TLT = 0.4 }}")
        if abs(total - 1.0) > _SUM_TOL:
            hint = ("; set CASH to the remainder" if cash is not None else
                    f"; scale them or add CASH = {1.0 - sum(w.values()):.6g} to hold the remainder in cash"
                    if total < 1.0 else "; scale them to 1")
            raise ConfigError(f"{where}.weights sum to {total:.12g}, expected 1 (within 1e-9){hint}")
        for a in w:
            _check_asset(a, f"{where}.weights", assets, catalog)
        reb, band = (table.rebalance, None) if isinstance(table.rebalance, str) else ("band", table.rebalance.band)
        into = table.risk_off_into
        basket: dict[str, float] = {}
        if isinstance(into, str):
            if into.lower() != "cash":
                raise ConfigError(f"{where}.risk_off_into = {into!r}; expected \"cash\" or a table of asset = "
                                  "share, e.g. { TLT = 0.5, GLD = 0.5 }")
        else:
            basket = dict(into)
            if not basket or abs(sum(basket.values()) - 1.0) > _SUM_TOL:
                raise ConfigError(f"{where}.risk_off_into shares sum to {sum(basket.values()):.12g}, expected 1 "
                                  "(within 1e-9)")
            for a in basket:
                if a != CASH:
                    _check_asset(a, f"{where}.risk_off_into", assets, catalog)
        names = list(table.strategies)
        for s in names:
            if s not in strategies:
                raise ConfigError(f"{where}.strategies: unknown strategy '{s}'{did_you_mean(s, strategies)}; "
                                  f"the run has {list(strategies)}")
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}.strategies lists a strategy twice: {names}")
        if STATIC in names:
            raise ConfigError(f"{where}.strategies: '{STATIC}' is the book's own baseline; it is always added")
        chosen = tuple(names) or tuple(s for s in strategies if s != baseline)
        out.append(PortfolioConfig(name=name, weights=tuple(w.items()), rebalance=reb, band=band,
                                   risk_off_into=tuple(basket.items()), strategies=chosen, cash=float(cash or 0.0)))
    seen = [p.name for p in out]
    dupes = sorted({n for n in seen if seen.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: portfolios: name(s) {dupes} used twice; names label the outputs")
    return tuple(out)


def book_targets(book: PortfolioConfig, exposure: pd.DataFrame) -> pd.DataFrame:
    """Target weight per asset and bar from the strategy's exposure per asset (see the module docstring).

    ``exposure``: one column per asset of the book on the book's bar index (each asset's decided
    exposure carried to the bars its own market is closed); NaN counts as 0, a missing column
    (an asset the strategy does not cover) as 1. Raises a ConfigError for an exposure above 1.
    """
    cols = list(book.assets)
    e = exposure_matrix(book, exposure)
    over = np.argwhere(e > 1.0 + 1e-12)
    if len(over):
        t, j = over[0]
        raise ConfigError(f"portfolio {book.name}: exposure {e[t, j]:g} of {cols[j]} on "
                          f"{exposure.index[t]:%Y-%m-%d} is above 1; books hold at most each sleeve's weight")
    return pd.DataFrame(target_weights(e, *weight_arrays(book)), index=exposure.index, columns=cols)


def exposure_matrix(book: PortfolioConfig, exposure: pd.DataFrame) -> np.ndarray:
    """(bars, assets) exposures in the book's asset order: NaN as 0, an uncovered asset as 1."""
    e = np.ones((len(exposure.index), len(book.assets)))
    for j, a in enumerate(book.assets):
        if a in exposure:
            e[:, j] = np.nan_to_num(exposure[a].to_numpy(dtype=float), nan=0.0)
    return e


def weight_arrays(book: PortfolioConfig) -> tuple[np.ndarray, np.ndarray]:
    """(w, d): the weights and basket shares in the book's asset order."""
    return (np.array([book.weight.get(a, 0.0) for a in book.assets]),
            np.array([book.basket.get(a, 0.0) for a in book.assets]))


def target_weights(e: np.ndarray, w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The formula on arrays: e (bars, assets) in [0, 1], w and d (assets,) -> targets (bars, assets).

    target_i = w_i e_i + d_i e_i F with F = sum_k w_k (1 - e_k); sweeps call it on many baskets.
    """
    freed = (w[None, :] * (1.0 - e)).sum(axis=1)
    return w[None, :] * e + d[None, :] * e * freed[:, None]


def book_exposure(book: PortfolioConfig, exposure: pd.DataFrame) -> pd.Series:
    """The book's own exposure, sum_i w_i e_i (the share of the book's weights still held; 1 - CASH
    when nothing is cut), same conventions as :func:`book_targets`."""
    out = np.zeros(len(exposure.index))
    for a, w in book.weights:
        out += w * (np.nan_to_num(exposure[a].to_numpy(dtype=float), nan=0.0) if a in exposure else 1.0)
    return pd.Series(out, index=exposure.index, name=book.name)


def rebalance_flags(index: pd.DatetimeIndex, rule: str, us: bool) -> np.ndarray:
    """True on the bars a calendar rebalance is decided: the last NYSE session of each month or
    quarter (decided at 17:00 New York) when the book holds a US asset, else the last UTC day. The
    period's last session comes from the exchange calendar, known in advance, never from the data:
    a month whose last session is after the data ends has no rebalance."""
    flags = np.zeros(len(index), dtype=bool)
    if rule not in ("monthly", "quarterly") or not len(index):
        return flags
    freq = "M" if rule == "monthly" else "Q"
    if us:
        from riskoff.data.calendars import us_business_days
        days = us_business_days(index[0], index[-1] + pd.Timedelta(days=100))
    else:
        days = pd.date_range(index[0], index[-1] + pd.Timedelta(days=100), freq="D")
    periods = days.to_period(freq)
    last = days[np.r_[periods[1:] != periods[:-1], True]]
    last = last[last <= index[-1]]
    flags[index.isin(last)] = True
    return flags
