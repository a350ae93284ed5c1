"""The fast sampler: exact draws from large vocabularies with one uniform each.

Both searches (whole rows, and blocks) are tested on their own with chosen
uniforms, including the edges where a zero-probability category could slip
through, and statistically, with fixed seeds: Pearson's test must not reject
the true distribution (p > 0.001) and must reject a slightly wrong one.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from softsample_helpers import goodness_of_fit, sample_categorical, sampling
from softsample_helpers.sampling import (
    _search_blocks,
    _search_whole_rows,
    sample_from_probs,
)

NEG_INF = float("-inf")
ALPHA = 1e-3
ONE_BELOW = math.nextafter(1.0, 0.0)  # the largest uniform torch.rand can give


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(params=[2, 3, 4], ids=lambda b: f"block{b}")
def small_blocks(request, monkeypatch):
    """Tiny blocks, so that short rows have many blocks and a ragged tail."""
    monkeypatch.setattr(sampling, "BLOCK_SIZE", request.param)
    return request.param


SEARCHES = [_search_whole_rows, _search_blocks]
SEARCH_IDS = ["whole_rows", "blocks"]


@pytest.mark.parametrize("search", SEARCHES, ids=SEARCH_IDS)
def test_edges_of_the_uniform_never_reach_a_zero_category(search, small_blocks):
    # Zeros first, last, in runs, and a whole block of zeros in the middle.
    probs = torch.tensor([[0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.5, 0.25, 0.0, 0.0]])
    uniforms = torch.tensor(
        [[0.0, 0.25, 0.5, 0.75, ONE_BELOW, 1e-300]], dtype=torch.float64
    )
    drawn = search(probs, uniforms)
    assert drawn.tolist() == [[2, 7, 7, 8, 8, 2]]


@pytest.mark.parametrize("search", SEARCHES, ids=SEARCH_IDS)
def test_a_row_that_sums_to_less_than_one_is_still_inverted(search, small_blocks):
    # Rounding leaves softmax rows a little off 1; the total is what counts.
    probs = torch.tensor([[0.1, 0.0, 0.1, 0.2, 0.0]])
    uniforms = torch.tensor([[0.0, 0.49, 0.51, ONE_BELOW]], dtype=torch.float64)
    assert search(probs, uniforms).tolist() == [[0, 2, 3, 3]]


@given(
    data=st.data(),
    vocab=st.integers(1, 40),
    rows=st.integers(1, 3),
    block=st.integers(2, 9),
)
def test_each_draw_lands_in_the_interval_its_uniform_points_to(
    data, vocab, rows, block
):
    weights = data.draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(1e-30, 1.0)),
            min_size=rows * vocab,
            max_size=rows * vocab,
        )
    )
    probs = torch.tensor(weights, dtype=torch.float64).reshape(rows, vocab)
    probs[:, data.draw(st.integers(0, vocab - 1))] = 0.5  # every row > 0
    fractions = data.draw(st.lists(st.floats(0.0, ONE_BELOW), min_size=4, max_size=4))
    uniforms = torch.tensor([fractions] * rows, dtype=torch.float64)
    sampling.BLOCK_SIZE, saved = block, sampling.BLOCK_SIZE
    try:
        results = [search(probs, uniforms) for search in SEARCHES]
    finally:
        sampling.BLOCK_SIZE = saved
    cdf = np.cumsum(probs.numpy(), axis=-1)
    for drawn in results:
        for row in range(rows):
            for u, index in zip(fractions, drawn[row].tolist(), strict=True):
                assert probs[row, index] > 0, "drew a zero-probability category"
                target = u * cdf[row, -1]
                low = cdf[row, index - 1] if index > 0 else 0.0
                assert low - 1e-12 <= target <= cdf[row, index] + 1e-12


@pytest.mark.parametrize(
    "logits",
    [
        torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5, 3.0, -2.0]),
        torch.tensor([1000.0, 999.0, 998.5, -1000.0, 997.0, 999.5, 996.0]),
        torch.tensor([NEG_INF, 0.0, NEG_INF, NEG_INF, NEG_INF, 1.0, NEG_INF]),
        torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 30.0]),  # 1e-13 next to 1
    ],
    ids=["plain", "huge", "masked_blocks", "one_dominant"],
)
def test_block_search_follows_softmax(logits, small_blocks):
    probs = torch.softmax(logits, dim=-1)
    samples = sample_from_probs(probs.unsqueeze(0), 1, seeded(1))  # warm path
    uniforms = torch.rand(1, 30_000, generator=seeded(2), dtype=torch.float64)
    samples = _search_blocks(probs.unsqueeze(0), uniforms).squeeze(0)
    expected = torch.softmax(logits.double(), dim=-1)
    assert goodness_of_fit(samples, expected).p_value > ALPHA
    assert not (expected[samples] == 0).any()


def test_the_public_sampler_uses_blocks_for_long_rows(small_blocks, monkeypatch):
    monkeypatch.setattr(sampling, "CACHE_BYTES", 40_000)  # these logits: 400 kB
    calls = []
    original = sampling._search_blocks_of_logits
    monkeypatch.setattr(
        sampling,
        "_search_blocks_of_logits",
        lambda *a: calls.append(1) or original(*a),
    )
    logits = torch.randn(2_000, 50, generator=seeded(4))
    logits[:, ::3] = NEG_INF
    samples = sample_categorical(logits, generator=seeded(5))
    assert calls, "the block search was not used"
    probs = torch.softmax(logits.double(), dim=-1)
    assert not (probs.gather(-1, samples) == 0).any()
    # Every row has its own distribution; pool them by testing many rows of
    # one repeated distribution instead.
    row = logits[:1].expand(20_000, -1)
    samples = sample_categorical(row, generator=seeded(6)).reshape(-1)
    assert goodness_of_fit(samples, probs[0]).p_value > ALPHA
    assert goodness_of_fit(samples, torch.softmax(logits[0] / 1.1, -1)).p_value < ALPHA


@pytest.mark.parametrize("temperature", [0.5, 2.0])
@pytest.mark.parametrize("num_samples", [1, 3])
def test_batches_and_temperatures_with_blocks(temperature, num_samples, small_blocks):
    logits = torch.tensor(
        [
            [4.0, NEG_INF, 0.0, 1.0, -3.0, 2.0, NEG_INF, 0.5, 0.0],
            [NEG_INF, NEG_INF, NEG_INF, NEG_INF, 0.0, NEG_INF, NEG_INF, NEG_INF, 0.1],
        ]
    )
    rows = logits.repeat(5_000, 1)
    samples = sample_categorical(
        rows, num_samples, temperature=temperature, generator=seeded(8)
    )
    samples = samples.reshape(5_000, 2, num_samples).transpose(0, 1).reshape(2, -1)
    expected = torch.softmax(logits.double() / temperature, dim=-1)
    fit = goodness_of_fit(samples, expected)
    assert (fit.p_value > ALPHA).all(), fit
    assert (
        goodness_of_fit(samples[0], torch.softmax(logits[0].double(), -1)).p_value
        < ALPHA
    )


def long_tailed_logits(vocab: int, seed: int) -> torch.Tensor:
    """Zipf-like logits in shuffled order, a few masked, as a language model's."""
    ranks = torch.arange(1, vocab + 1, dtype=torch.float64)
    logits = (-1.1 * ranks.log()).float()
    logits = logits[torch.randperm(vocab, generator=seeded(seed))]
    logits[torch.randperm(vocab, generator=seeded(seed + 1))[:1000]] = NEG_INF
    return logits


def test_vocabulary_above_100k_follows_softmax():
    vocab = 150_001  # not a multiple of the block size: a ragged tail
    logits = long_tailed_logits(vocab, seed=10)
    expected = torch.softmax(logits.double(), dim=-1)
    # 500 draws per call keep the sampler on its block search (a row's worth
    # of gathered blocks would switch it to whole rows).
    generator = seeded(11)
    probs = torch.softmax(logits, dim=-1).unsqueeze(0)
    chunks = [sample_from_probs(probs, 500, generator)[0] for _ in range(60)]
    samples = torch.cat(chunks)
    fit = goodness_of_fit(samples, expected)
    assert fit.dof > 100  # thousands of categories pooled into enough bins
    assert fit.p_value > ALPHA, fit
    assert not (expected[samples] == 0).any(), "drew a masked category"
    # The public sampler, many rows at once, never draws a masked category.
    batch = sample_categorical(logits.expand(64, -1), generator=seeded(12))
    assert not (expected[batch] == 0).any()
    # A slightly hotter distribution is told apart.
    hotter = torch.softmax(logits.double() / 1.05, dim=-1)
    assert goodness_of_fit(samples, hotter).p_value < ALPHA


@pytest.mark.parametrize("temperature", [1.0, 0.8])
def test_aligned_contiguous_vocabulary_above_100k_follows_softmax(temperature):
    # 131,072 = 512 blocks of 256 in contiguous rows: the path language-model
    # logits take, where whole chosen blocks are copied out of the rows.
    # Row r is the same distribution rolled by 1000 * r places, so every row
    # differs and the draws, rolled back, all follow row 0.
    vocab, rows, per_row = 131_072, 64, 400  # 400 x 256 < vocab: still blocks
    base = long_tailed_logits(vocab, seed=30)
    shifts = 1000 * torch.arange(rows).unsqueeze(-1)
    logits = torch.stack([base.roll(int(shift)) for shift in shifts])
    assert logits.numel() * 4 > sampling.CACHE_BYTES  # made a few rows at a time
    drawn = sample_categorical(
        logits, per_row, temperature=temperature, generator=seeded(31)
    )
    samples = ((drawn - shifts) % vocab).reshape(-1)
    expected = torch.softmax(base.double() / temperature, dim=-1)
    fit = goodness_of_fit(samples, expected)
    assert fit.dof > 100
    assert fit.p_value > ALPHA, fit
    assert not (expected[samples] == 0).any(), "drew a masked category"
    other = torch.softmax(base.double() / (temperature * 1.05), dim=-1)
    assert goodness_of_fit(samples, other).p_value < ALPHA


@pytest.mark.parametrize("vocab", [12, 13])  # blocks fill the row, or not
def test_both_ways_of_taking_out_blocks_agree(vocab):
    values = torch.randn(5, vocab, generator=seeded(32))
    block = torch.randint(0, -(-vocab // 4), (5, 3), generator=seeded(33))
    strided = values.t().contiguous().t()  # same values, not contiguous
    members = sampling._block_members(values, block, 4, padding=NEG_INF)
    assert torch.equal(members, sampling._block_members(strided, block, 4, NEG_INF))
    for row in range(5):
        for draw in range(3):
            start = 4 * int(block[row, draw])
            expected = values[row, start : start + 4].tolist()
            expected += [NEG_INF] * (4 - len(expected))
            assert members[row, draw].tolist() == expected


def test_tiny_probabilities_after_a_large_mass_keep_their_share():
    # 0.9 on one category, then 100k categories sharing 0.1: each is 1e-6,
    # about 17 float32 steps near 0.9, so a float32 running sum would
    # distort them; the float64 running sums must not.
    vocab = 100_001
    probs = torch.full((1, vocab), 0.1 / (vocab - 1), dtype=torch.float32)
    probs[0, 0] = 0.9
    uniforms = torch.rand(1, 200_000, generator=seeded(12), dtype=torch.float64)
    samples = _search_blocks(probs, uniforms)[0]
    tail_share = (samples > 0).double().mean().item()
    # Binomial(200000, 0.1): standard deviation 0.00067.
    assert abs(tail_share - 0.1) < 0.003
    fit = goodness_of_fit(samples, probs[0].double() / probs[0].double().sum())
    assert fit.p_value > ALPHA


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("vocab", [3_000, 3_001])  # with and without a short block
def test_block_sums_made_a_few_rows_at_a_time_equal_the_whole_softmax(
    temperature, vocab, monkeypatch
):
    # 12 KB per row and 40 KB at a time: groups of 3 rows, the last of 1.
    monkeypatch.setattr(sampling, "CACHE_BYTES", 40_000)
    logits = 3.0 * torch.randn(10, vocab, generator=seeded(20))
    logits[3, 100:2_000] = NEG_INF
    sums = sampling._softmax_block_sums(logits, temperature)
    probs = torch.softmax(logits / temperature, dim=-1)
    assert torch.equal(sums, sampling._sum_blocks(probs, sampling.BLOCK_SIZE))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_searching_logits_draws_what_searching_their_softmax_draws(dtype, temperature):
    # The chosen blocks' weights are recomputed from the logits; the draws
    # must be the very ones the stored probabilities give.
    logits = long_tailed_logits(20_001, seed=21).to(dtype).expand(8, -1) * 3.0
    uniforms = torch.rand(8, 40, generator=seeded(22), dtype=torch.float64)
    uniforms[:, :3] = torch.tensor([0.0, 0.5, ONE_BELOW], dtype=torch.float64)
    probs = torch.softmax(logits / temperature, dim=-1)
    expected = _search_blocks(probs, uniforms)
    drawn = sampling._search_blocks_of_logits(logits, temperature, uniforms)
    assert torch.equal(drawn, expected)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_large_and_small_inputs_take_paths_that_draw_alike(temperature, monkeypatch):
    # Above CACHE_BYTES the sampler works a few rows at a time; below it
    # takes the plain softmax. Which one runs must not change the draws.
    logits = 3.0 * torch.randn(6, 5_000, generator=seeded(23))
    logits[2, 300:4_000] = NEG_INF

    def draws(cache_bytes):
        monkeypatch.setattr(sampling, "CACHE_BYTES", cache_bytes)
        return sample_categorical(
            logits, 3, temperature=temperature, generator=seeded(24)
        )

    assert torch.equal(draws(40_000), draws(10**9))


def test_same_seed_same_draws_on_the_fast_path():
    logits = torch.randn(4, 5_000, generator=seeded(13))
    first = sample_categorical(logits, generator=seeded(14))
    again = sample_categorical(logits, generator=seeded(14))
    other = sample_categorical(logits, 2, generator=seeded(15))
    assert torch.equal(first, again)
    assert other.shape == (4, 2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_dtypes_take_the_fast_path(dtype):
    logits = long_tailed_logits(3_000, seed=16).to(dtype)
    samples = sample_categorical(logits.expand(20_000, -1), generator=seeded(17))
    expected = torch.softmax(logits.double(), dim=-1)
    assert goodness_of_fit(samples.reshape(-1), expected).p_value > ALPHA


def test_sample_from_probs_rejects_rows_that_are_not_probabilities():
    for probs in [torch.zeros(2, 5), torch.tensor([[0.5, float("nan"), 0.5]])]:
        with pytest.raises(ValueError, match="finite positive sum"):
            sample_from_probs(probs, 1)
    with pytest.raises(ValueError, match="non-negative"):
        sample_from_probs(torch.tensor([[0.5, -0.1, 0.6]]), 1)


def test_empty_batch_gives_empty_draws():
    assert sample_categorical(torch.zeros(0, 3000), 2).shape == (0, 2)


@pytest.mark.parametrize(
    ("logits", "message"),
    [
        (torch.tensor([[0.0] * 600, [float("nan")] + [0.0] * 599]), "NaN"),
        (torch.tensor([[0.0] * 599 + [float("inf")]]), r"\+inf"),
        (torch.tensor([[0.0] * 600, [NEG_INF] * 600]), r"all -inf \(row 1\)"),
    ],
)
def test_bad_long_rows_get_the_same_messages(logits, message):
    with pytest.raises(ValueError, match=message):
        sample_categorical(logits)


# Exercise checks of lesson 06 -----------------------------------------------


def verdict(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def right_inverse_cdf(probs, generator):
    cdf = probs.cumsum(dim=-1, dtype=torch.float64)
    u = torch.rand(probs.shape[0], 1, generator=generator, dtype=torch.float64)
    return torch.searchsorted(cdf, u * cdf[:, -1:], right=True)


@pytest.mark.parametrize(
    ("fn", "start", "words"),
    [
        (right_inverse_cdf, "Correct", "zeros never drawn"),
        (  # off by one: lands on the token after the right one
            lambda p, g: right_inverse_cdf(p, g) + 1,
            "Not yet",
            "",
        ),
        (  # one uniform shared by all rows: every row draws the same token
            lambda p, g: torch.searchsorted(
                p.cumsum(-1, dtype=torch.float64),
                torch.rand(1, 1, generator=g, dtype=torch.float64)
                .expand(p.shape[0], 1)
                .contiguous(),
                right=True,
            ),
            "Not yet",
            "do not follow",
        ),
        (  # no generator: not reproducible
            lambda p, g: torch.searchsorted(
                p.cumsum(-1, dtype=torch.float64),
                torch.rand(p.shape[0], 1, dtype=torch.float64),
                right=True,
            ),
            "Not yet",
            "same seed",
        ),
        (  # always the most likely token
            lambda p, g: p.argmax(-1, keepdim=True),
            "Not yet",
            "do not follow",
        ),
    ],
)
def test_check_inverse_cdf_sampler(capsys, fn, start, words):
    from softsample_helpers.decoding_exercises import check_inverse_cdf_sampler

    check_inverse_cdf_sampler(fn)
    out = verdict(capsys)
    assert out.startswith(start) and words in out, out


@pytest.mark.parametrize(
    ("answer", "start"),
    [
        ((4_096_000, 32), "Correct"),
        ([32 * 128_000, 32], "Correct"),
        ((128_000, 32), "Not yet"),
        ((4_096_000, 1), "Not yet"),
        ("many", "Not yet"),
    ],
)
def test_check_random_number_count_answer(capsys, answer, start):
    from softsample_helpers.decoding_exercises import check_random_number_count_answer

    check_random_number_count_answer(answer)
    assert verdict(capsys).startswith(start)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (1e-7, "Correct"),
        (1e-6, "go smaller"),
        (1e-8, "go larger"),
        (3e-7, "power of ten"),
        (-1.0, "positive"),
    ],
)
def test_check_float32_step_answer(capsys, answer, words):
    from softsample_helpers.decoding_exercises import check_float32_step_answer

    check_float32_step_answer(answer)
    assert words in verdict(capsys)


# The inverse-CDF explorer, driven headless ----------------------------------


def test_inverse_cdf_explorer_defaults():
    from softsample_helpers.explorers import inverse_cdf_explorer

    explorer = inverse_cdf_explorer()
    assert repr(explorer) == "InverseCdfExplorer(categories=40)"
    assert explorer.message.value == ""
    assert bytes(explorer.image.value[:4]) == b"\x89PNG"
    assert "Looked at 13 numbers instead of 40" in explorer.readout.value


@pytest.mark.parametrize("block_size", [2, 4, 8, 16])
def test_inverse_cdf_explorer_draws_the_token_whose_slice_u_crosses(block_size):
    from softsample_helpers.explorers import inverse_cdf_explorer

    logits = torch.tensor([1.0, NEG_INF, 0.5, 2.0, -1.0, 0.0, NEG_INF, 1.5, 0.2] * 3)
    logits = logits.masked_fill(torch.isneginf(logits), -1000.0)  # sliders: finite
    explorer = inverse_cdf_explorer(logits, block_size=block_size)
    cdf = torch.softmax(logits.double(), -1).cumsum(-1)
    for u in [0.0, 0.12, 0.5, 0.77, 0.99]:
        explorer.uniform_slider.value = u
        token = int(torch.searchsorted(cdf, torch.tensor([u * cdf[-1]]), right=True))
        assert explorer.token == token
        assert explorer.block == token // block_size
        assert f"token {token}," in explorer.readout.value
        low, high = explorer.uniform_line.get_ydata()
        assert low == high == u


def test_inverse_cdf_explorer_redraws_everything_only_for_a_new_block_size():
    from softsample_helpers.explorers import inverse_cdf_explorer

    explorer = inverse_cdf_explorer()
    draws = explorer.live.full_draws
    explorer.uniform_slider.value = 0.9
    assert explorer.live.full_draws == draws
    explorer.block_size_slider.value = 4
    explorer.uniform_slider.value = 0.1
    assert explorer.live.full_draws == draws + 1
    assert len(explorer.boundaries.get_segments()) == 9  # 10 blocks of 4


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"logits": torch.zeros(65)}, ValueError, "at most 64 tokens"),
        ({"uniform": 1.0}, ValueError, r"uniform must be a number in \[0, 0.99\]"),
        ({"uniform": "half"}, TypeError, "uniform must be a number"),
        ({"block_size": 3}, ValueError, "block_size must be one of"),
        ({"labels": ["a", "b"]}, ValueError, "labels has 2 names"),
    ],
)
def test_inverse_cdf_explorer_rejects_bad_arguments(kwargs, error, words):
    from softsample_helpers.explorers import inverse_cdf_explorer

    arguments = {"logits": torch.tensor([1.0, 0.0, -1.0])} | kwargs
    with pytest.raises(error, match=words):
        inverse_cdf_explorer(**arguments)


def test_logits_that_overflow_when_divided_by_the_temperature_are_named():
    logits = torch.tensor([3e38, 0.0, -1.0] * 200)
    with pytest.raises(ValueError, match="overflowed to inf .temperature=0.5"):
        sample_categorical(logits, temperature=0.5)
    with pytest.raises(ValueError, match="overflowed to inf .temperature=0.5"):
        sample_categorical(logits, temperature=0.5, top_k=300)
