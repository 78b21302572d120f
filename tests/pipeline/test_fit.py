import numpy as np

from sangkien.pipeline.match.fit import expectation_maximisation, fit_weights, level_frequencies


def _mixture(rng, n, lam, m, u):
    match = rng.random(n) < lam
    cols = [np.where(match, rng.choice(len(mf), n, p=mf), rng.choice(len(uf), n, p=uf)) for mf, uf in zip(m, u)]
    return np.stack(cols, axis=1).astype(np.int8), match


def test_em_recovers_known_parameters():
    rng = np.random.default_rng(1)
    m = [np.array([.8, .15, .05]), np.array([.7, .2, .1]), np.array([.9, .1]), np.array([.6, .3, .1])]
    u = [np.array([.02, .08, .9]), np.array([.05, .15, .8]), np.array([.3, .7]), np.array([.1, .2, .7])]
    levels, _ = _mixture(rng, 200_000, 0.1, m, u)
    n_levels = [3, 3, 2, 3]
    flat = [np.full(k, 1 / k) for k in n_levels]
    m0 = [np.array([.5, .3, .2]), np.array([.5, .3, .2]), np.array([.6, .4]), np.array([.5, .3, .2])]
    em_m, em_u, lam, _its, ok = expectation_maximisation(levels, n_levels, m0, flat, 0.3)
    assert ok and abs(lam - 0.1) < 0.01
    for a, b in zip(em_m, m):
        assert np.abs(a - b).max() < 0.03
    for a, b in zip(em_u, u):
        assert np.abs(a - b).max() < 0.03


def test_tiny_store_keeps_the_priors():
    levels = np.zeros((10, 2), dtype=np.int8)
    res = fit_weights(levels, levels, ("a", "b"), [2, 2], {"a": (3.0, -3.0), "b": (2.0, -2.0)}, -3.0)
    assert res.fallback and "blocked pairs" in res.fallback


def test_level_frequencies_never_zero():
    freq = level_frequencies(np.zeros((100, 1), dtype=np.int8), [3])
    assert (freq[0] > 0).all() and abs(freq[0].sum() - 1) < 1e-12


def test_a_contradiction_stays_strong_where_second_initiatives_are_common():
    # feature 0 title (same, other), 1 authors (same, other), 2 dates (same, months apart).
    # Copies: title, authors and dates agree. Second initiatives by the same people (8% of
    # blocked pairs): title and authors agree, dates months apart. Other pairs: random.
    rng = np.random.default_rng(3)
    copies = np.zeros((20_000, 3), dtype=np.int8)
    seconds = np.array([[0, 0, 1]] * 8_000, dtype=np.int8)
    others = np.stack([rng.random(72_000) < 0.97, rng.random(72_000) < 0.95, rng.random(72_000) < 0.9],
                      axis=1).astype(np.int8)
    blocked = np.concatenate([copies, seconds, others])
    random = np.stack([rng.random(50_000) < 0.999, rng.random(50_000) < 0.999, rng.random(50_000) < 0.97],
                      axis=1).astype(np.int8)
    priors = {"title": (10.0, -8.0), "authors": (6.0, -4.0), "dates": (8.0, -14.0)}
    free = fit_weights(blocked, random, tuple(priors), [2, 2, 2], priors, -4.0)
    capped = fit_weights(blocked, random, tuple(priors), [2, 2, 2], priors, -4.0, capped={"dates": (1,)})
    second = lambda fit: fit.prior() + sum(w[lv] for w, lv in zip(fit.weights().values(), (0, 0, 1)))  # noqa: E731
    # unconstrained EM takes the second initiatives for copies: months apart weighs little
    assert free.weights()["dates"][1] > -8.0 and second(free) > 0
    # the contradiction keeps at most its prior weight, and the second initiative stays apart
    assert capped.weights()["dates"][1] <= -14.0 and second(capped) < 0
    # while copies still join
    assert capped.prior() + sum(w[0] for w in capped.weights().values()) > 0
