"""Confidence calibration: raw span scores to the observed share of right values.

Fitted on held-out documents by pool-adjacent-violators (isotonic regression) over score bins,
so the map is monotone; stored with the model as (score, accuracy) knots and interpolated.
"""

from __future__ import annotations

from bisect import bisect_right


def fit(pairs: list[tuple[float, bool]], bins: int = 12) -> list[tuple[float, float]]:
    if not pairs:
        return [(0.0, 0.0), (1.0, 1.0)]
    pairs = sorted(pairs)
    size = max(1, len(pairs) // bins)
    blocks = []  # [mean score, right, count]
    for start in range(0, len(pairs), size):
        chunk = pairs[start:start + size]
        blocks.append([sum(s for s, _ in chunk) / len(chunk), sum(r for _, r in chunk), len(chunk)])
    merged: list[list[float]] = []
    for block in blocks:  # pool adjacent violators: accuracy must not fall as the score rises
        merged.append(block)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] > merged[-1][1] / merged[-1][2]:
            b = merged.pop()
            a = merged.pop()
            n = a[2] + b[2]
            merged.append([(a[0] * a[2] + b[0] * b[2]) / n, a[1] + b[1], n])
    # Shrink each block's accuracy toward 0.5 by one pseudo-observation so no bin claims certainty
    # (then keep it monotone: shrinking moves small blocks more than large ones).
    knots, floor = [], 0.0
    for s, r, n in merged:
        floor = max(floor, (r + 0.5) / (n + 1))
        knots.append((round(s, 4), round(floor, 4)))
    return knots


class Calibrator:
    def __init__(self, knots: list[tuple[float, float]] | None):
        self.knots = sorted(knots or [(0.0, 0.0), (1.0, 1.0)])
        self.xs = [k[0] for k in self.knots]

    def __call__(self, score: float) -> float:
        if score <= self.xs[0]:
            return self.knots[0][1]
        if score >= self.xs[-1]:
            return self.knots[-1][1]
        i = bisect_right(self.xs, score)
        (x0, y0), (x1, y1) = self.knots[i - 1], self.knots[i]
        return y0 + (y1 - y0) * (score - x0) / (x1 - x0 or 1.0)
