"""Drift tests as pure functions: a reference sample against a current one.

- PSI (population stability index) for a numeric feature, over bins cut at the reference's
  quantiles: 0.1 is a moderate shift, 0.25 a major one (the usual reading in credit scoring).
- Pearson's chi-square for a categorical feature (a template mix, a language, an outcome): the
  2 x k table of counts, its statistic and p-value.
- The two-sample Kolmogorov-Smirnov test for a numeric one (confidences, words per page): the
  largest gap between the two empirical distributions, and its asymptotic p-value.

The distributions are SciPy's (``scipy.stats``), checked against textbook values in
tests/services/monitoring/test_drift.py.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

EPSILON = 1e-4  # a bin with no documents counts as this share, so the logarithm stays finite


@dataclass(frozen=True)
class Result:
    test: str
    statistic: float
    p_value: float | None
    drift: bool
    detail: dict


def psi(reference: Sequence[float], current: Sequence[float], *, bins: int = 10, alert: float = 0.25) -> Result:
    """Sum over bins of (current share - reference share) * ln(current share / reference share)."""
    edges = sorted(set(_quantiles(reference, bins)))
    ref, cur = _shares(reference, edges), _shares(current, edges)
    value = psi_of_shares(ref, cur)
    return Result("psi", round(value, 6), None, value >= alert,
                  {"edges": [round(e, 4) for e in edges], "reference": _r(ref), "current": _r(cur)})


def psi_of_shares(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI of two distributions already binned alike (shares summing to 1)."""
    return sum((c - r) * math.log(c / r) for r, c in
               zip(_floor(reference), _floor(current), strict=True))


def chi_square(reference: Sequence[Hashable], current: Sequence[Hashable], *, alpha: float = 0.01) -> Result:
    """Pearson's chi-square on the 2 x k table of category counts (categories seen in either)."""
    ref, cur = Counter(reference), Counter(current)
    categories = sorted(set(ref) | set(cur), key=str)
    statistic, dof = chi_square_table([[ref[c] for c in categories], [cur[c] for c in categories]])
    p = chi2_sf(statistic, dof) if dof else 1.0
    n_ref, n_cur = max(len(reference), 1), max(len(current), 1)
    return Result("chi2", round(statistic, 6), p, p < alpha, {
        "dof": dof, "reference": {str(c): round(ref[c] / n_ref, 4) for c in categories},
        "current": {str(c): round(cur[c] / n_cur, 4) for c in categories}})


def chi_square_table(table: Sequence[Sequence[float]]) -> tuple[float, int]:
    """Pearson's statistic and degrees of freedom of a contingency table (empty columns dropped)."""
    columns = [c for c in range(len(table[0])) if sum(row[c] for row in table) > 0]
    rows = [r for r in table if sum(r[c] for c in columns) > 0]
    if len(rows) < 2 or len(columns) < 2:
        return 0.0, 0
    total = sum(r[c] for r in rows for c in columns)
    statistic = 0.0
    for row in rows:
        row_sum = sum(row[c] for c in columns)
        for c in columns:
            expected = row_sum * sum(r[c] for r in rows) / total
            statistic += (row[c] - expected) ** 2 / expected
    return statistic, (len(rows) - 1) * (len(columns) - 1)


def ks(reference: Sequence[float], current: Sequence[float], *, alpha: float = 0.01) -> Result:
    """Two-sample Kolmogorov-Smirnov: D = max |F_ref(x) - F_cur(x)|, asymptotic p-value."""
    a, b = sorted(reference), sorted(current)
    n, m = len(a), len(b)
    if not n or not m:
        return Result("ks", 0.0, 1.0, False, {"reference_n": n, "current_n": m})
    d = max(abs(bisect.bisect_right(a, x) / n - bisect.bisect_right(b, x) / m) for x in a + b)
    ne = n * m / (n + m)
    p = kolmogorov_sf((math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d)
    return Result("ks", round(d, 6), p, p < alpha, {
        "reference_median": _median(a), "current_median": _median(b)})


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square(dof)."""
    return 1.0 if x <= 0 else float(stats.chi2.sf(x, dof))


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution (the limit of sqrt(n) D)."""
    return float(stats.kstwobign.sf(lam))


def _quantiles(values: Sequence[float], bins: int) -> list[float]:
    """The ``bins - 1`` cut points of ``values``, each one of the values (numpy's "higher")."""
    if not len(values):
        return []
    return [float(v) for v in np.quantile(values, [k / bins for k in range(1, bins)], method="higher")]


def _shares(values: Sequence[float], edges: list[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for v in values:
        counts[bisect.bisect_right(edges, v)] += 1
    total = max(len(values), 1)
    return _floor([c / total for c in counts])


def _floor(shares: Sequence[float]) -> list[float]:
    return [max(s, EPSILON) for s in shares]


def _median(values: list[float]) -> float:
    return round(values[len(values) // 2], 4) if values else 0.0


def _r(values: Sequence[float]) -> list[float]:
    return [round(v, 4) for v in values]


def two_proportions(worse: tuple[int, int], base: tuple[int, int]) -> float:
    """One-sided p-value that the first rate (hits, n) exceeds the second by chance alone
    (pooled two-proportion z-test)."""
    (x1, n1), (x2, n2) = worse, base
    if not n1 or not n2:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0 if x1 / n1 <= x2 / n2 else 0.0
    return float(stats.norm.sf((x1 / n1 - x2 / n2) / se))
