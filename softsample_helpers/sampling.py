"""Drawing category indices from logits, exactly and fast.

``sample_categorical`` turns each row of logits into probabilities with
``torch.softmax`` and inverts their cumulative distribution with one uniform
random number per draw. For large vocabularies (language models have 32k to
256k tokens) it scans the row in blocks: the block sums are cumulated
(in float64) to find the block a draw lands in, and only that block is
searched. When the probabilities would not fit in the CPU's cache, it
makes them a few rows at a time and sums each block while those rows are
still in cache, so the whole table of probabilities is never stored. This
costs little more than the softmax itself, while
``torch.multinomial(probs, 1)`` draws one random number per category.
"""

from __future__ import annotations

import math

import torch

from softsample_helpers._checks import (
    FLOAT_DTYPES,
    check_count,
    check_generator,
    check_logits,
    check_positive_number,
)
from softsample_helpers.decoding import (
    check_min_p,
    check_top_k,
    check_top_p,
    filter_logits,
)

#: Categories per block in the blockwise search. Measured on 2 CPU cores
#: (benchmarks/sampling.py): summing blocks of 256 costs about as little as
#: larger blocks, and a smaller chosen block is cheaper to gather and search.
BLOCK_SIZE = 256
#: About this many bytes of probabilities are made at a time by the block
#: search, so that they are summed while still in the CPU's cache.
CACHE_BYTES = 4 * 2**20


def _as_rows(logits: torch.Tensor) -> torch.Tensor:
    """View ``(*batch, vocab)`` as ``(rows, vocab)``, upcasting half types."""
    if logits.dim() == 2 and logits.dtype in (torch.float32, torch.float64):
        return logits  # already rows: skip two no-op calls on the fast path
    work_dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    return logits.reshape(-1, logits.shape[-1]).to(work_dtype)


def _check_logits_shape(logits: object) -> torch.Tensor:
    """Run ``check_logits``' cheap checks (type, dtype, shape) only.

    Its value checks (NaN, ``+inf``, rows of ``-inf``) read every entry.
    The fast path leaves them out: any such row turns the softmax row, and
    so its total, into NaN, and only then does ``check_logits`` run to
    raise its message.
    """
    if (
        isinstance(logits, torch.Tensor)
        and logits.dtype in FLOAT_DTYPES
        and logits.dim() > 0
        and logits.shape[-1] > 0
    ):
        return logits
    return check_logits(logits)  # raises the message for what is wrong


class _NotProbabilities(ValueError):
    """A row of ``probs`` has a NaN, infinite or non-positive total."""


#: The largest float64 below 1, and the largest uniform ``torch.rand`` gives.
ONE_BELOW = math.nextafter(1.0, 0.0)
_SMALLEST_NORMAL = torch.finfo(torch.float64).tiny
_NOT_PROBABILITIES = (
    "probs must have non-negative rows with a finite positive sum; "
    "compute them with torch.softmax(logits, dim=-1)"
)


def _check_probs(probs: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every row of ``probs`` can be sampled.

    Each entry must be >= 0 and each row's total a normal positive float64
    (not 0, subnormal, infinite or NaN). A normal total ``t`` guarantees
    ``u * t < t`` for every uniform ``u <= ONE_BELOW`` (the product cannot
    round up to ``t``), so a search target never reaches a row's end.
    """
    if probs.numel() == 0:
        return
    totals = probs.sum(dim=-1, dtype=torch.float64)
    low, high = torch.aminmax(totals)
    valid = low.item() >= _SMALLEST_NORMAL and math.isfinite(high.item())
    if not valid or bool((probs < 0).any()):
        raise ValueError(_NOT_PROBABILITIES)


def _checked_totals(totals: torch.Tensor) -> torch.Tensor:
    """Return the row totals, shape ``(rows, 1)``, if none is NaN or infinite.

    A NaN total must stop the search: a NaN target would send
    ``searchsorted`` past the end of the row. The totals met here are a
    softmax's, about 1 unless the row had a NaN, ``+inf`` or only ``-inf``
    logits (then NaN), or rows that ``_check_probs`` has passed; so one
    reduction, which NaN and infinity both survive, is the whole check.
    """
    if totals.numel() > 0 and not math.isfinite(totals.amax().item()):
        raise _NotProbabilities(_NOT_PROBABILITIES)
    return totals


def _search_whole_rows(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draws, cumulating each whole row in float64.

    ``searchsorted(..., right=True)`` returns the first category whose
    cumulative sum exceeds the target; a category of probability 0 adds
    nothing to the sum, so it can never be that first one.

    ``probs`` has shape ``(rows, vocab)``, ``uniforms`` float64 values in
    [0, 1) of shape ``(rows, num_samples)``. Returns int64 indices shaped
    like ``uniforms``; raises ``_NotProbabilities`` if a row's total is
    NaN or infinite.
    """
    cdf = probs.cumsum(dim=-1, dtype=torch.float64)
    targets = uniforms * _checked_totals(cdf[:, -1:])  # below the total
    return torch.searchsorted(cdf, targets, right=True)


def _choose_blocks(
    sums: torch.Tensor, uniforms: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 1 of the block search: the block each draw lands in.

    ``sums`` holds each row's block sums, shape ``(rows, blocks)``;
    ``uniforms`` float64 values in [0, 1) of shape ``(rows, num_samples)``.
    The sums are cumulated in float64. Returns the index of each chosen
    block and how far into the block the draw's target lies, as a share
    of the block's sum in [0, 1). A block of sum 0 is never chosen
    (``right=True`` skips it).

    Few operations follow the big pass over the logits, and each counts:
    at 128k categories each new kind of operation costs about a hundredth
    of the softmax, as its code and data first come back into cache.
    """
    cdf = sums.cumsum(dim=-1, dtype=torch.float64)
    targets = uniforms * _checked_totals(cdf[:, -1:])
    block = torch.searchsorted(cdf, targets, right=True)
    # The target lies (cdf - target) before the block's end: 1 - that share.
    fraction = (targets - cdf.gather(-1, block)).div_(sums.gather(-1, block))
    return block, fraction.add_(1.0).clamp_(0.0, ONE_BELOW)


def _block_members(
    values: torch.Tensor, block: torch.Tensor, size: int, padding: float
) -> torch.Tensor:
    """The ``size`` entries of each chosen block of ``values``.

    ``values`` has shape ``(rows, vocab)``, ``block`` block indices of shape
    ``(rows, num_samples)``; the result ``(rows, num_samples, size)``.
    Entries past the end of the vocabulary (in a last, shorter block) are
    ``padding``.
    """
    rows, vocab = values.shape
    num_samples = block.shape[-1]
    if vocab % size == 0 and values.is_contiguous():
        # The rows seen as one list of blocks: copy whole blocks out of it.
        blocks_per_row = vocab // size
        first_of_row = torch.arange(0, rows * blocks_per_row, blocks_per_row)
        chosen = (block + first_of_row.unsqueeze(-1)).view(-1)
        members = values.view(-1, size).index_select(0, chosen)
        return members.view(rows, num_samples, size)
    positions = (block * size).unsqueeze(-1) + torch.arange(size)
    outside = positions >= vocab
    positions = positions.masked_fill(outside, vocab - 1)
    members = values.gather(-1, positions.view(rows, num_samples * size))
    return members.view(rows, num_samples, size).masked_fill(outside, padding)


def _search_inside(
    inner_cdf: torch.Tensor,
    fraction: torch.Tensor,
    block: torch.Tensor,
    size: int,
    *,
    tiny_totals: bool = False,
) -> torch.Tensor:
    """Step 2 of the block search: the category inside each chosen block.

    ``inner_cdf`` is the float64 running sum of the chosen blocks' weights,
    on any common scale, shape ``(rows, num_samples, size)``, each block's
    total positive; ``fraction`` and ``block`` come from ``_choose_blocks``.
    A normal total ``t`` keeps ``fraction * t`` below ``t``, so the search
    stays inside the block. ``tiny_totals`` says a total may be subnormal;
    the targets are then held just below the totals. Returns the
    categories' indices in the row, shaped like ``block``.
    """
    totals = inner_cdf[..., -1:]
    inner_targets = fraction.unsqueeze(-1) * totals
    if tiny_totals:
        just_below = torch.nextafter(totals, torch.zeros_like(totals))
        inner_targets = torch.minimum(inner_targets, just_below)
    offset = torch.searchsorted(inner_cdf, inner_targets, right=True).squeeze(-1)
    return torch.add(offset, block, alpha=size)


def _search_blocks(
    probs: torch.Tensor, uniforms: torch.Tensor, block_size: int | None = None
) -> torch.Tensor:
    """Inverse-CDF draws that cumulate block sums, then search one block.

    Block sums are pairwise sums of at most ``BLOCK_SIZE`` numbers in the
    probabilities' dtype (relative error about that of the probabilities
    themselves); the running totals over blocks and within the chosen block
    are float64, so a probability far below float32's resolution near 1
    still moves the cumulative sum and keeps its chance of being drawn.
    Shapes as in ``_search_whole_rows``; ``block_size`` defaults to
    ``BLOCK_SIZE`` (the inverse-CDF explorer shows smaller blocks).
    """
    size = BLOCK_SIZE if block_size is None else block_size
    block, fraction = _choose_blocks(_sum_blocks(probs, size), uniforms)
    members = _block_members(probs, block, size, padding=0.0)
    inner_cdf = members.cumsum(dim=-1, dtype=torch.float64)
    # float32 probabilities make every non-zero block sum a normal float64;
    # float64 ones may not.
    tiny = probs.dtype == torch.float64
    return _search_inside(inner_cdf, fraction, block, size, tiny_totals=tiny)


def _sum_blocks(
    values: torch.Tensor, size: int, out: torch.Tensor | None = None
) -> torch.Tensor:
    """Sums of each row's blocks of ``size`` entries (the last may be short).

    ``values`` has shape ``(rows, vocab)``; the sums ``(rows, ceil(vocab /
    size))`` have its dtype and are written to ``out`` if given.
    """
    rows, vocab = values.shape
    num_full, tail = divmod(vocab, size)
    if out is None:
        out = values.new_empty(rows, num_full + bool(tail))
    if not tail:  # one call when the blocks fill the row
        return torch.sum(values.reshape(rows, num_full, size), dim=-1, out=out)
    full = values[:, : num_full * size].reshape(rows, num_full, size)
    torch.sum(full, dim=-1, out=out[:, :num_full])
    torch.sum(values[:, num_full * size :], dim=-1, out=out[:, num_full])
    return out


def _softmax_block_sums(logits: torch.Tensor, divisor: float) -> torch.Tensor:
    """Block sums of ``softmax(logits / divisor)``, a few rows at a time.

    Each group of rows is turned into probabilities and summed while its
    probabilities are still in the CPU's cache, into one buffer reused by
    every group: the full ``(rows, vocab)`` probabilities are never stored
    and never read back from main memory, which would cost about a third
    of the softmax again. ``logits`` has shape ``(rows, vocab)``.
    """
    rows, vocab = logits.shape
    row_bytes = vocab * logits.element_size()
    group = max(1, min(rows, max(torch.get_num_threads(), CACHE_BYTES // row_bytes)))
    probs = logits.new_empty(group, vocab)
    scaled = logits.new_empty(group, vocab) if divisor != 1.0 else None
    sums = logits.new_empty(rows, -(-vocab // BLOCK_SIZE))
    for part, out in zip(logits.split(group), sums.split(group), strict=True):
        count = part.shape[0]
        buffer = probs if count == group else probs[:count]
        if scaled is not None:
            part = torch.div(part, divisor, out=scaled[:count])
        torch.softmax(part, dim=-1, out=buffer)
        _sum_blocks(buffer, BLOCK_SIZE, out=out)
    return sums


def _search_blocks_of_logits(
    logits: torch.Tensor, divisor: float, uniforms: torch.Tensor
) -> torch.Tensor:
    """``_search_blocks`` on ``softmax(logits / divisor)``, never stored whole.

    The chosen blocks' weights are recomputed from their logits, as the
    softmax of each chosen block on the same float32 (or float64)
    quotients the big softmax saw. A weight is then its probability
    divided by its block's share of the row, so it is never smaller than
    the probability (up to rounding) and a ``-inf`` logit's stays 0. The
    largest weight of a block, at least ``1 / BLOCK_SIZE``, makes every
    chosen block's total normal.
    """
    size = BLOCK_SIZE
    sums = _softmax_block_sums(logits, divisor)
    block, fraction = _choose_blocks(sums, uniforms)
    members = _block_members(logits, block, size, padding=-math.inf)
    if divisor != 1.0:
        members = members / divisor  # rounded as in _softmax_block_sums
    weights = torch.softmax(members, dim=-1)
    inner_cdf = weights.cumsum(dim=-1, dtype=torch.float64)
    return _search_inside(inner_cdf, fraction, block, size)


def _blocks_are_cheaper(vocab: int, num_samples: int) -> bool:
    """Whether to search blocks rather than cumulate whole rows.

    Searching blocks gathers ``num_samples * BLOCK_SIZE`` entries per row;
    beyond a vocabulary's worth, cumulating the whole row is cheaper.
    """
    return vocab > BLOCK_SIZE and num_samples * BLOCK_SIZE < vocab


def _uniforms(
    rows: int, num_samples: int, generator: torch.Generator | None
) -> torch.Tensor:
    """One float64 uniform in [0, 1) per draw, shape ``(rows, num_samples)``."""
    return torch.rand(rows, num_samples, generator=generator, dtype=torch.float64)


def _search(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """The cheaper exact search of ``probs`` for these uniforms."""
    if _blocks_are_cheaper(probs.shape[-1], uniforms.shape[-1]):
        return _search_blocks(probs, uniforms)
    return _search_whole_rows(probs, uniforms)


def _draw(
    probs: torch.Tensor, num_samples: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Draw ``(rows, num_samples)`` indices from probabilities."""
    return _search(probs, _uniforms(probs.shape[0], num_samples, generator))


def _draw_from_logits(
    logits: torch.Tensor,
    divisor: float,
    num_samples: int,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Draw ``(rows, num_samples)`` indices from ``softmax(logits / divisor)``.

    The same uniforms and the same block search as ``_draw`` on those
    probabilities. When the probabilities would not fit in ``CACHE_BYTES``,
    they are made a few rows at a time and never stored whole
    (``_search_blocks_of_logits``); smaller inputs take the plain softmax,
    whose few operations cost less than working in groups.
    """
    rows, vocab = logits.shape
    uniforms = _uniforms(rows, num_samples, generator)
    large = logits.numel() * logits.element_size() > CACHE_BYTES
    if large and _blocks_are_cheaper(vocab, num_samples):
        return _search_blocks_of_logits(logits, divisor, uniforms)
    scaled = logits if divisor == 1.0 else logits / divisor
    return _search(torch.softmax(scaled, dim=-1), uniforms)


def sample_from_probs(
    probs: torch.Tensor, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw with replacement from rows of probabilities, one uniform per draw.

    Chooses the faster of two exact inverse-CDF searches: whole rows for
    small vocabularies or many draws per row, blocks of ``BLOCK_SIZE``
    otherwise.

    Parameters
    ----------
    probs : torch.Tensor
        float32 or float64 probabilities of shape ``(rows, vocab)``, each
        row non-negative with a positive sum (it need not be exactly 1).
    num_samples : int
        Draws per row.
    generator : torch.Generator, optional
        The source of the ``(rows, num_samples)`` float64 uniforms.

    Returns
    -------
    torch.Tensor
        int64 indices of shape ``(rows, num_samples)``; a category of
        probability 0 is never returned.
    """
    _check_probs(probs)
    return _draw(probs, num_samples, generator)


def sample_categorical(
    logits: torch.Tensor,
    num_samples: int = 1,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    replacement: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw category indices from ``softmax(logits / temperature)``.

    Optional decoding filters cut unlikely categories first, always in the
    order temperature, top-k, top-p, min-p (see ``filter_logits``; other
    libraries order them differently, so the same settings can keep other
    tokens there). A cut or ``-inf`` category is never drawn, and at least
    the most probable category of each row always survives.

    With replacement, the draws invert the cumulative distribution with
    one float64 uniform per draw (searching blocks for large vocabularies),
    which is exact: each category is drawn with its softmax probability up
    to the rounding of the probabilities and the 2**-53 resolution of the
    uniforms. Without replacement, ``torch.multinomial`` draws.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point scores of shape ``(*batch, vocab)``, any number of
        batch dimensions (including none). ``-inf`` masks a category: it is
        never drawn.
    num_samples : int
        How many indices to draw per row, >= 1.
    temperature : float
        A finite number > 0. Below 1 sharpens the distribution, above 1
        flattens it.
    top_k : int, optional
        Keep only the ``top_k`` most probable categories (and any tied with
        the last of them). An integer >= 1; ``None`` switches it off.
    top_p : float, optional
        Keep the smallest set of most probable categories whose probability
        adds up to at least ``top_p``. In (0, 1]; ``None`` switches it off.
    min_p : float, optional
        Keep categories at least ``min_p`` times as probable as the most
        probable one. In [0, 1); ``None`` switches it off.
    replacement : bool
        Whether an index may be drawn more than once in a row. Without
        replacement, ``num_samples`` may not exceed the number of categories
        with non-zero probability.
    generator : torch.Generator, optional
        The source of randomness; the same seed gives the same draws.

    Returns
    -------
    torch.Tensor
        int64 indices of shape ``(*batch, num_samples)``.
    """
    logits = _check_logits_shape(logits)
    num_samples = check_count(num_samples, "num_samples")
    temperature = check_positive_number(
        temperature, "temperature", hint="use argmax for greedy choice"
    )
    top_k, top_p, min_p = check_top_k(top_k), check_top_p(top_p), check_min_p(min_p)
    if not isinstance(replacement, bool):
        raise TypeError(f"replacement must be True or False, got {replacement!r}")
    generator = check_generator(generator)

    filtering = top_k is not None or top_p is not None or min_p is not None
    if filtering or not replacement:
        check_logits(logits)  # the fast path below checks values as it goes
    rows = _as_rows(logits)
    divisor = temperature
    if filtering:
        rows = filter_logits(
            rows, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p
        )
        divisor = 1.0  # filter_logits has divided by the temperature

    if not replacement:
        probs = torch.softmax(rows / divisor, dim=-1)
        available = int((probs > 0).sum(dim=-1).min())
        if num_samples > available:
            raise ValueError(
                f"num_samples={num_samples} is more than the {available} "
                f"categories with non-zero probability in some row, so sampling "
                f"without replacement would have to draw impossible categories; "
                f"ask for at most {available}, or use replacement=True"
            )
        samples = torch.multinomial(
            probs, num_samples, replacement=False, generator=generator
        )
    else:
        try:
            samples = _draw_from_logits(rows, divisor, num_samples, generator)
        except _NotProbabilities:
            check_logits(logits)  # a NaN, +inf or all -inf row: says which
            raise ValueError(
                f"logits / temperature overflowed to inf (temperature="
                f"{temperature!r}, largest |logit| {logits.abs().max().item():.3g}); "
                f"use a larger temperature or smaller logits"
            ) from None
    return samples.reshape(*logits.shape[:-1], num_samples)
