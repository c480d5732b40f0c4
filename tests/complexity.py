"""
Complexity guards: the cost of a step must grow linearly with its input.

A guard is a correctness test, not a benchmark. It runs a step on a crafted
input of size ``n`` and of size ``factor * n`` and fails when the large case
costs far more than ``factor`` times the small one (a quadratic step costs
``factor ** 2`` times as much, a cubic one ``factor ** 3``) or more than a
bound of seconds. CPU time of this process is measured, not the wall clock,
so that other work on a shared machine does not make a linear step look slow.
"""

import gc
import time

#: The small case is grown until it costs at least this much CPU time, so
#: that timer resolution and interpreter warm-up are small beside it.
MIN_SMALL_SECONDS = 0.02


def cost(run, value, repeat=1):
    """
    Return the least CPU time ``run(value)`` took over ``repeat`` runs.

    The cyclic garbage collector is held off while it runs: a full collection
    walks every object of the process, and in a test run's large heap its
    cost follows the heap, not the input (a linear scrub of 1 MB measured
    36x the time of 128 KB with it on, 9x with it off).
    """
    best = None
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.process_time()
            run(value)
            spent = time.process_time() - start
            best = spent if best is None else min(best, spent)
    finally:
        if enabled:
            gc.enable()
    return best


def assert_linear(
    run, make_input, n, *, factor=8, slack=4, limit=10.0, max_n=None, clock=None
):
    """Fail unless ``run`` costs about linear time in the size of its input.

    ``make_input(n)`` returns an input of size ``n``; ``run(input)`` does the
    work under guard. ``n`` is doubled (up to ``max_n``) until the small case
    costs :data:`MIN_SMALL_SECONDS`. The large case, ``factor`` times the
    size, may cost at most ``slack * factor`` times the small one and at most
    ``limit`` seconds: with the defaults, 8x the input may cost 32x the time,
    where a quadratic step would cost 64x.
    """
    measure = cost if clock is None else clock
    # Once, not per measurement: in a long test run's heap a collection
    # takes a good part of a second.
    gc.collect()
    run(make_input(n))  # warm-up: imports, caches, compiled patterns
    small = measure(run, make_input(n), 3)
    while small < MIN_SMALL_SECONDS and (max_n is None or n * 2 <= max_n):
        n *= 2
        small = measure(run, make_input(n), 3)
    large = measure(run, make_input(n * factor), 2)
    ratio = large / max(small, 1e-6)
    assert large <= limit, (
        f"{factor * n} took {large:.2f} s (over the {limit} s bound); "
        f"{n} took {small * 1000:.1f} ms"
    )
    assert ratio <= slack * factor, (
        f"{factor}x the input cost {ratio:.0f}x the time "
        f"({n}: {small * 1000:.1f} ms, {factor * n}: {large * 1000:.1f} ms); "
        f"linear would be about {factor}x"
    )
    return small, large
