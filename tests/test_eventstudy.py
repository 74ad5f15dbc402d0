"""Event-study engine: exact recovery on planted data, statistics worked by hand, skipped pairs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from newsbt.core.errors import NewsbtError
from newsbt.study.model import EventPair, returns_from_prices, run_event_study
from newsbt.data.prices import load_prices

DATES = pd.bdate_range("2020-01-01", periods=400)


def orthogonal_noise(rng: np.random.Generator, x: np.ndarray, scale: float) -> np.ndarray:
    """Noise with zero mean and zero covariance with ``x``: OLS of a + b*x + noise on x returns a, b."""
    z = rng.normal(0, scale, len(x))
    design = np.column_stack([np.ones_like(x), x])
    return z - design @ np.linalg.lstsq(design, z, rcond=None)[0]


# ---------------------------------------------------------------- exact recovery (default design)

PLANTED = {0: 0.05, 1: -0.02, -1: 0.01, 5: 0.03, 20: -0.015}  # relative day -> abnormal return
TRUE = {"A": (0.001, 1.3, 300), "B": (-0.0005, 0.7, 320), "C": (0.0, 1.9, 340)}  # alpha, beta, day-0 row


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(7)
    market = rng.normal(0.0004, 0.01, len(DATES))
    columns, noise = {"MKT": market}, {}
    for ticker, (alpha, beta, row) in TRUE.items():
        r = rng.normal(0, 0.02, len(DATES))  # outside both windows: anything
        est = slice(row - 250, row - 10)
        noise[ticker] = orthogonal_noise(rng, market[est], 0.015)
        r[est] = alpha + beta * market[est] + noise[ticker]
        evt = np.arange(row - 10, row + 21)
        r[evt] = alpha + beta * market[evt]
        for day, value in PLANTED.items():
            r[row + day] += value
        columns[ticker] = r
    returns = pd.DataFrame(columns, index=DATES)
    pairs = [EventPair(f"e{t}", t, DATES[row]) for t, (_, _, row) in TRUE.items()]
    return returns, pairs, noise, run_event_study(returns, pairs, "MKT")


def test_market_model_recovers_planted_alpha_beta_and_abnormal_returns_exactly(planted):
    returns, _, noise, result = planted
    ev = result.events.set_index("ticker")
    expected_ar = np.array([PLANTED.get(d, 0.0) for d in range(-10, 21)])
    for ticker, (alpha, beta, row) in TRUE.items():
        assert ev.loc[ticker, "alpha"] == pytest.approx(alpha, abs=1e-10)
        assert ev.loc[ticker, "beta"] == pytest.approx(beta, abs=1e-10)
        assert ev.loc[ticker, "sigma"] == pytest.approx(np.sqrt((noise[ticker] ** 2).sum() / 238), rel=1e-10)
        np.testing.assert_allclose(result.abnormal.loc[(f"e{ticker}", ticker)].to_numpy(), expected_ar, atol=1e-10)
        assert ev.loc[ticker, "ar0"] == pytest.approx(0.05, abs=1e-10)
        for (a, b), col in [((0, 0), 0.05), ((0, 1), 0.03), ((-1, 1), 0.04), ((0, 5), 0.06), ((0, 20), 0.045)]:
            assert ev.loc[ticker, f"car[{a},{b}]"] == pytest.approx(col, abs=1e-10)
        m = returns["MKT"].to_numpy()
        m_est = m[row - 250 : row - 10]
        correction = 1 + 1 / 240 + (m[row] - m_est.mean()) ** 2 / ((m_est - m_est.mean()) ** 2).sum()
        assert ev.loc[ticker, "t_ar0"] == pytest.approx(0.05 / (ev.loc[ticker, "sigma"] * np.sqrt(correction)), rel=1e-10)
    assert result.skipped == ()
    assert list(result.caar["window"]) == ["[0,0]", "[0,1]", "[-1,1]", "[0,5]", "[0,20]"]
    np.testing.assert_allclose(result.caar["caar"], [0.05, 0.03, 0.04, 0.06, 0.045], atol=1e-10)
    np.testing.assert_allclose(result.path["aar"], expected_ar, atol=1e-10)
    np.testing.assert_allclose(result.path["caar"], np.cumsum(expected_ar), atol=1e-10)
    assert list(result.path.index) == list(range(-10, 21))


def test_market_adjusted_and_constant_mean_abnormal_returns(planted):
    returns, pairs, _, _ = planted
    row, ticker = TRUE["B"][2], "B"
    r, m = returns[ticker].to_numpy(), returns["MKT"].to_numpy()
    est, evt = slice(row - 250, row - 10), slice(row - 10, row + 21)
    adjusted = run_event_study(returns, pairs[1:2], "MKT", model="market_adjusted")
    np.testing.assert_allclose(adjusted.abnormal.iloc[0], r[evt] - m[evt], atol=1e-14)
    assert adjusted.events.loc[0, "sigma"] == pytest.approx(np.std(r[est] - m[est], ddof=1), rel=1e-12)
    assert adjusted.events.loc[0, "t_ar0"] == pytest.approx((r[row] - m[row]) / np.std(r[est] - m[est], ddof=1), rel=1e-12)
    constant = run_event_study(returns, pairs[1:2], "MKT", model="constant_mean")
    np.testing.assert_allclose(constant.abnormal.iloc[0], r[evt] - r[est].mean(), atol=1e-14)
    s = np.std(r[est], ddof=1)
    assert constant.events.loc[0, "t_ar0"] == pytest.approx((r[row] - r[est].mean()) / (s * np.sqrt(1 + 1 / 240)), rel=1e-12)


# ---------------------------------------------------------------- statistics worked by hand

HAND_ROWS = {"X": 12, "Y": 15, "Z": 15}
HAND_WINDOWS = ((0, 0), (0, 1), (-1, 1))


@pytest.fixture(scope="module")
def hand_case():
    rng = np.random.default_rng(11)
    dates = DATES[:30]
    market = rng.normal(0.001, 0.012, len(dates))
    data = {"M": market}
    for shift, ticker in zip((0.05, -0.04, 0.03), HAND_ROWS):
        r = 0.0005 + 1.2 * market + rng.normal(0, 0.01, len(dates))
        r[HAND_ROWS[ticker]] += shift
        data[ticker] = r
    returns = pd.DataFrame(data, index=dates)
    pairs = [(f"ev{t}", t, dates[row]) for t, row in HAND_ROWS.items()]
    result = run_event_study(returns, pairs, "M", windows=HAND_WINDOWS, estimation=(-8, -2), path=(-1, 2))
    return returns, result


def by_hand(returns: pd.DataFrame, ticker: str, row: int):
    """Market model for one pair with L = 7 (days -8..-2): residuals and (CAR, SCAR) per window,
    the CAR variance from the matrix form s^2 * 1'(I + Xw (X'X)^-1 Xw')1 of MacKinlay (1997)."""
    m, r = returns["M"].to_numpy(), returns[ticker].to_numpy()
    x, y = m[row - 8 : row - 1], r[row - 8 : row - 1]
    xbar, ybar = x.mean(), y.mean()
    beta = ((x - xbar) * (y - ybar)).sum() / ((x - xbar) ** 2).sum()
    alpha = ybar - beta * xbar
    resid = y - alpha - beta * x
    s2 = (resid**2).sum() / (7 - 2)
    design = np.column_stack([np.ones(7), x])
    out = {}
    for a, b in HAND_WINDOWS:
        days = np.arange(row + a, row + b + 1)
        car = (r[days] - alpha - beta * m[days]).sum()
        xw = np.column_stack([np.ones(len(days)), m[days]])
        v = s2 * (np.eye(len(days)) + xw @ np.linalg.inv(design.T @ design) @ xw.T)
        out[(a, b)] = (car, car / np.sqrt(v.sum()))
    return resid, out


def test_statistics_match_hand_computation(hand_case):
    returns, result = hand_case
    per_pair = {t: by_hand(returns, t, row) for t, row in HAND_ROWS.items()}
    resid = np.array([per_pair[t][0] for t in HAND_ROWS])
    corr = []
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        a, b = resid[i] - resid[i].mean(), resid[j] - resid[j].mean()
        corr.append((a * b).sum() / np.sqrt((a**2).sum() * (b**2).sum()))
    rbar = sum(corr) / 3
    assert result.residual_correlation == pytest.approx(rbar, rel=1e-10)
    for w in HAND_WINDOWS:
        car = np.array([per_pair[t][1][w][0] for t in HAND_ROWS])
        scar = np.array([per_pair[t][1][w][1] for t in HAND_ROWS])
        t_cs = car.mean() / (car.std(ddof=1) / np.sqrt(3))
        patell = scar.sum() / np.sqrt(3 * (7 - 2) / (7 - 4))
        bmp = scar.mean() / (scar.std(ddof=1) / np.sqrt(3))
        kp = bmp * np.sqrt((1 - rbar) / (1 + 2 * rbar))
        k = int((car > 0).sum())
        lower = sum(math.comb(3, j) for j in range(0, k + 1)) / 8
        upper = sum(math.comb(3, j) for j in range(k, 4)) / 8
        expected = {
            "n": 3, "caar": car.mean(), "mean_scar": scar.mean(),
            "t": t_cs, "p_t": 2 * stats.t.sf(abs(t_cs), 2),
            "patell_z": patell, "p_patell": 2 * stats.norm.sf(abs(patell)),
            "bmp_t": bmp, "p_bmp": 2 * stats.t.sf(abs(bmp), 2),
            "kp_t": kp, "p_kp": 2 * stats.t.sf(abs(kp), 2),
            "n_positive": k, "sign_z": (k - 1.5) / np.sqrt(0.75), "p_sign": min(1.0, 2 * min(lower, upper)),
        }  # fmt: skip
        row = result.caar.set_index("window").loc[f"[{w[0]},{w[1]}]"]
        for name, value in expected.items():
            assert row[name] == pytest.approx(value, rel=1e-10), name
        np.testing.assert_allclose(result.events[f"scar[{w[0]},{w[1]}]"], scar, rtol=1e-10)
    assert result.caar.set_index("window").loc["[0,0]", "n_positive"] == 2  # the planted +, -, + shifts


def test_path_band_is_cross_sectional_t_interval(hand_case):
    _, result = hand_case
    ar = result.abnormal.to_numpy()  # span -1..2 equals the path here
    half = stats.t.ppf(0.975, 2) * ar.std(axis=0, ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(result.path["aar_hi"] - result.path["aar"], half, rtol=1e-12)
    cum = ar.cumsum(axis=1)
    np.testing.assert_allclose(result.path["caar_lo"], cum.mean(axis=0) - stats.t.ppf(0.975, 2) * cum.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-12)


# ---------------------------------------------------------------- skipped pairs, never silent


def test_skipped_pairs_are_reported_with_reasons():
    rng = np.random.default_rng(3)
    prices = {}
    for ticker in ("MKT", "OLD", "NEW", "GAP", "HOLE"):
        close = 100 * np.cumprod(1 + rng.normal(0, 0.01, len(DATES)))
        prices[ticker] = pd.DataFrame({"close": close, "adj_close": close}, index=DATES)
    prices["NEW"] = prices["NEW"].iloc[125:]  # listed on row 125: first return on row 126
    prices["GAP"] = prices["GAP"].drop(DATES[100])  # returns on rows 100 and 101 missing
    prices["HOLE"] = prices["HOLE"].drop(DATES[305])
    returns = returns_from_prices(prices)
    pairs = [
        ("a", "OLD", DATES[300]),
        ("b", "NEW", DATES[300]),
        ("c", "OLD", DATES[395]),
        ("d", "OLD", "2021-07-03"),  # a Saturday
        ("e", "NOPE", DATES[300]),
        ("f", "GAP", DATES[300]),
        ("g", "HOLE", DATES[300]),
        ("h", "MKT", DATES[300]),
        ("a", "OLD", DATES[301]),
    ]
    result = run_event_study(returns, pairs, "MKT")
    assert list(result.events["event_id"]) == ["a"]
    reasons = {s.event_id: s.reason for s in result.skipped}
    assert [s.event_id for s in result.skipped] == list("bcdefgha")
    assert reasons["b"] == f"estimation window needs 240 returns, found 164 (NEW returns start {DATES[126].date()})"
    assert reasons["c"] == f"event window needs returns to day +20, data ends {DATES[-1].date()} (day +4)"
    assert reasons["d"] == "day 0 2021-07-03 is not a trading date of the returns"
    assert reasons["e"] == "no returns for NOPE"
    assert reasons["f"] == f"estimation window needs 240 returns, found 238 (2 missing between {DATES[50].date()} and {DATES[289].date()})"
    assert reasons["g"] == f"event window misses 2 return(s), first on {DATES[305].date()}"
    assert reasons["h"].startswith("MKT is the market ticker")
    assert reasons["a"] == "duplicate of an earlier pair with the same event_id and ticker"


def test_returns_from_prices_uses_aligned_simple_returns():
    dates = DATES[:4]
    prices = {
        "A": pd.DataFrame({"close": [10.0, 11, 12, 13], "adj_close": [5.0, 5.5, 6.6, 6.6]}, index=dates),
        "B": pd.DataFrame({"close": [20.0, 22], "adj_close": [20.0, 22]}, index=dates[[0, 3]]),
    }
    returns = returns_from_prices(prices)
    np.testing.assert_allclose(returns["A"], [np.nan, 0.1, 0.2, 0.0])
    assert returns["B"].isna().all()  # the gap is not booked as a one-day return
    np.testing.assert_allclose(returns_from_prices(prices, "close")["A"], [np.nan, 0.1, 1 / 11, 1 / 12])
    with pytest.raises(NewsbtError, match="column 'volume'"):
        returns_from_prices(prices, "volume")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "fama_french"}, "unknown event-study model 'fama_french'"),
        ({"market": "SPY"}, "market ticker SPY has no returns column"),
        ({"estimation": (-250, -10)}, "must end before the event window starts"),
        ({"windows": [(2, 1)]}, r"CAR window \(2, 1\) ends before it starts"),
        ({"estimation": (-14, -11)}, "the market model needs at least 5"),
    ],
)
def test_impossible_designs_are_refused(planted, kwargs, message):
    returns, pairs, _, _ = planted
    with pytest.raises(NewsbtError, match=message):
        run_event_study(returns, pairs, **{"market": "MKT", **kwargs})


def test_unparseable_day0_is_refused(planted):
    returns, _, _, _ = planted
    with pytest.raises(NewsbtError, match="event x A: day 0 'soon' is not a date"):
        run_event_study(returns, [("x", "A", "soon")], "MKT")


# ---------------------------------------------------------------- event-date clustering


def test_clustered_events_with_correlated_residuals_shrink_kp_below_bmp():
    rng = np.random.default_rng(5)
    market = rng.normal(0, 0.01, len(DATES))
    common = rng.normal(0, 0.015, len(DATES))  # industry shock shared by every ticker
    data = {"MKT": market}
    for i in range(8):
        data[f"T{i}"] = 0.0002 + (0.8 + 0.1 * i) * market + common + rng.normal(0, 0.008, len(DATES))
        data[f"T{i}"][300] += 0.04
    returns = pd.DataFrame(data, index=DATES)
    result = run_event_study(returns, [("news", f"T{i}", DATES[300]) for i in range(8)], "MKT")
    rbar = result.residual_correlation
    assert rbar > 0.5
    caar = result.caar
    assert (caar["kp_t"].abs() < caar["bmp_t"].abs()).all()
    np.testing.assert_allclose(caar["kp_t"], caar["bmp_t"] * np.sqrt((1 - rbar) / (1 + 7 * rbar)), rtol=1e-12)
    assert (caar["p_kp"] > caar["p_bmp"]).all()


# ---------------------------------------------------------------- real prices (optional)


@pytest.fixture
def real_returns(real_data_dir: Path) -> pd.DataFrame:
    """Returns of the DeepSeek-day semiconductors and QQQ (skipped when NEWSBT_DATA_DIR is unset)."""
    return returns_from_prices(load_prices(["NVDA", "AMD", "AVGO", "TSM", "ARM", "MU", "QQQ"], real_data_dir))


@pytest.mark.realdata
def test_deepseek_day_on_real_prices(real_returns):
    tickers = ["NVDA", "AMD", "AVGO", "TSM", "ARM", "MU"]
    result = run_event_study(real_returns, [("deepseek", t, "2025-01-27") for t in tickers], "QQQ")
    assert result.skipped == ()
    nvda = result.events.set_index("ticker").loc["NVDA"]
    assert nvda["ar0"] < -0.10
    assert abs(nvda["t_ar0"]) > 3
    assert -1 / 5 < result.residual_correlation < 1
    assert np.isfinite(result.caar["kp_t"]).all()
    assert (result.caar["kp_t"].abs() < result.caar["bmp_t"].abs()).all()
