"""The drift tests on distributions whose answers are known: textbook critical values, hand-worked
tables, identical and shifted samples."""

from __future__ import annotations

import math
import random

import pytest

from services.monitoring import drift


@pytest.mark.parametrize(("x", "dof"), [(3.841458820694124, 1), (5.991464547107979, 2), (11.070497693516351, 5),
                                        (18.307038053275146, 10)])
def test_chi_square_tail_at_the_5_percent_critical_values(x: float, dof: int) -> None:
    """The tabulated 95th percentiles of chi-square leave exactly 5% above them."""
    assert drift.chi2_sf(x, dof) == pytest.approx(0.05, abs=1e-9)


def test_chi_square_tail_at_1_permille_and_in_closed_form() -> None:
    assert drift.chi2_sf(10.827566170662733, 1) == pytest.approx(0.001, abs=1e-9)
    for x in (0.5, 2.0, 7.5, 30.0):  # two degrees of freedom: P(X > x) = exp(-x / 2)
        assert drift.chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-9)


def test_chi_square_of_a_hand_worked_table() -> None:
    """[[10, 20], [30, 40]]: expected 12, 18, 28, 42; statistic 4/12 + 4/18 + 4/28 + 4/42 = 0.79365."""
    statistic, dof = drift.chi_square_table([[10, 20], [30, 40]])
    assert (round(statistic, 5), dof) == (0.79365, 1)
    assert drift.chi2_sf(statistic, 1) == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(math.sqrt(statistic) / 2 ** 0.5))))


def test_chi_square_sees_a_changed_mix_and_not_an_unchanged_one() -> None:
    same = drift.chi_square(["a"] * 50 + ["b"] * 50, ["a"] * 25 + ["b"] * 25)
    assert same.statistic == 0 and same.p_value == pytest.approx(1.0) and not same.drift
    moved = drift.chi_square(["accepted"] * 45 + ["exception"] * 5, ["accepted"] * 5 + ["exception"] * 45)
    assert moved.drift and moved.p_value < 1e-10
    assert moved.detail["reference"] == {"accepted": 0.9, "exception": 0.1}
    new_category = drift.chi_square(["x"] * 40, ["x"] * 20 + ["y"] * 20)  # a vendor never seen before
    assert new_category.drift and new_category.detail["dof"] == 1


def test_kolmogorov_tail_at_its_critical_values() -> None:
    """K's 95th and 99th percentiles are 1.3581 and 1.6276."""
    assert drift.kolmogorov_sf(1.3581) == pytest.approx(0.05, abs=2e-4)
    assert drift.kolmogorov_sf(1.6276) == pytest.approx(0.01, abs=1e-4)
    assert drift.kolmogorov_sf(0.1) == 1.0


def test_ks_statistic_on_samples_with_a_known_gap() -> None:
    assert drift.ks([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).statistic == 1.0  # disjoint: D = 1
    assert drift.ks([1, 2, 3, 4], [3, 4, 5, 6]).statistic == 0.5  # F_ref(2) = 0.5, F_cur(2) = 0
    same = drift.ks(list(range(100)), list(range(100)))
    assert same.statistic == 0 and same.p_value == 1.0


def test_ks_tells_a_shifted_normal_from_a_resample() -> None:
    rng = random.Random(7)
    ref = [rng.gauss(0, 1) for _ in range(400)]
    again = [rng.gauss(0, 1) for _ in range(200)]
    shifted = [rng.gauss(0.5, 1) for _ in range(200)]
    assert not drift.ks(ref, again, alpha=0.01).drift
    moved = drift.ks(ref, shifted, alpha=0.01)
    assert moved.drift and moved.p_value < 1e-4 and 0.15 < moved.statistic < 0.35  # true D = 2 Phi(0.25) - 1 = 0.197


def test_psi_of_binned_shares_by_hand() -> None:
    """Uniform quarters against (0.1, 0.2, 0.3, 0.4): sum (c - r) ln(c / r) = 0.2282."""
    value = drift.psi_of_shares([0.25] * 4, [0.1, 0.2, 0.3, 0.4])
    by_hand = (-0.15 * math.log(0.4) - 0.05 * math.log(0.8) + 0.05 * math.log(1.2) + 0.15 * math.log(1.6))
    assert value == pytest.approx(by_hand) and round(value, 4) == 0.2282


def test_psi_stable_moderate_and_major_shifts() -> None:
    rng = random.Random(3)
    ref = [rng.gauss(100, 15) for _ in range(2000)]
    assert drift.psi(ref, [rng.gauss(100, 15) for _ in range(1000)]).statistic < 0.05
    moderate = drift.psi(ref, [rng.gauss(105, 15) for _ in range(1000)]).statistic
    major = drift.psi(ref, [rng.gauss(125, 15) for _ in range(1000)])
    assert 0.05 < moderate < 0.25 and major.statistic > 1.0 and major.drift
    assert len(major.detail["edges"]) == 9  # deciles of the reference


def test_two_proportions() -> None:
    """12 of 40 against 4 of 40: pooled 0.2, se = sqrt(0.2 * 0.8 * 2 / 40) = 0.0894, z = 2.236, p = 0.0127."""
    assert drift.two_proportions((12, 40), (4, 40)) == pytest.approx(0.0127, abs=1e-4)
    assert drift.two_proportions((4, 40), (12, 40)) > 0.9
    assert drift.two_proportions((0, 0), (3, 10)) == 1.0
