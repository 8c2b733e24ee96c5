"""ShuffleNet V2's guideline experiments G1–G4 (its Tables 1–4) re-run in JAX, printed beside the paper's numbers.

Each experiment stacks 10 blocks on a 56×56 input and times the jitted forward pass (median of
``--repeats`` after a warm-up) at ``--batch`` (default 1, as the paper's single-image CPU/ARM column; the
paper's GPU column is batches/s at batch 8). Every variant of one column has the same FLOPs:
  G1  block = 1×1 conv c1→c2, 1×1 conv c2→c1; c1:c2 ∈ {1:1, 1:2, 1:6, 1:12}; width ×1/×2/×4.
  G2  block = one 1×1 group conv c→c with g ∈ {1, 2, 4, 8} groups; c grows with g; width ×1/×2/×4
      (the paper's c = 180 for g = 8 at ×1 is not divisible by 8: 176 here).
  G3  block = 1 fragment (one 1×1 conv c→c); k fragments in series (k 1×1 convs of width c/√k); or k in
      parallel (k branches of 1×1 conv c→c/k, concatenated). The blocks follow the captions of the
      paper's Table 3 and Appendix Fig. 1 (our reading; the figure's drawings are not reproduced here).
  G4  ResNet bottleneck unit (1×1 4c→c, ReLU, 3×3 c→c, ReLU, 1×1 c→4c, shortcut add, ReLU) with the
      ReLUs and/or the shortcut removed; c ∈ {32, 64, 128}.
Convolutions have no bias or BN. The paper's figures are its CPU/ARM columns (images/s, single-core ARM;
ShuffleNet V2 Tables 1–4): compare the trend within a column, not the absolute numbers. Every cell is run with
the ops' ``auto`` implementations and again with the canonical ones (``--impls``).

  .venv/bin/python -m benchmarks.guidelines            # full run (~2 minutes on 2 CPU cores at load ~1)
  .venv/bin/python -m benchmarks.guidelines --quick    # smoke run: ×1 width only, one repeat
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pathlib
from collections.abc import Callable

import jax
import jax.numpy as jnp

from benchmarks import common
from lightnets import ops
from runtime import host_memory

SPATIAL = 56
NUM_BLOCKS = 10
WIDTHS = (1, 2, 4)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One row of a guideline table."""

    label: str
    paper: tuple[float, ...]  # the paper's CPU/ARM images/s for each width column
    build: Callable[[int], tuple[Callable, list[jax.Array], int]]  # width -> (forward(x, kernels), kernels, C_in)


def _kernels(shapes: list[tuple[int, ...]]) -> list[jax.Array]:
    keys = jax.random.split(jax.random.key(0), len(shapes))
    return [jax.random.normal(k, s, jnp.float32) / math.sqrt(math.prod(s[:-1])) for k, s in zip(keys, shapes)]


def _conv_stack(shapes: list[tuple[int, int, int]]):
    """1×1 convs applied in order; ``shapes`` are (c_in, c_out, groups)."""

    def forward(x, kernels):
        for kernel, (_, _, groups) in zip(kernels, shapes):
            x = ops.grouped_conv(x, kernel, groups=groups)
        return x

    return forward, _kernels([(1, 1, c_in // g, c_out) for c_in, c_out, g in shapes]), shapes[0][0]


def channel_ratio(c1: int, c2: int, paper: tuple[float, ...]) -> Variant:
    """G1: blocks of 1×1 c1→c2 then c2→c1."""
    return Variant(f"c1:c2 = 1:{round(c2 / c1)} ({c1},{c2})", paper,
                   lambda w: _conv_stack([(c1 * w, c2 * w, 1), (c2 * w, c1 * w, 1)] * NUM_BLOCKS))


def group_count(groups: int, channels: int, paper: tuple[float, ...]) -> Variant:
    """G2: 1×1 group convs c→c; c (``channels`` × width) rounded down to a multiple of ``groups``."""
    return Variant(f"g={groups} (c={channels // groups * groups})", paper,
                   lambda w: _conv_stack([(channels * w // groups * groups,) * 2 + (groups,)] * NUM_BLOCKS))


def fragments_in_series(count: int, channels: int, paper: tuple[float, ...]) -> Variant:
    """G3: ``count`` 1×1 convs of width c/√count per block (same FLOPs as one c→c conv)."""
    width = round(channels / math.sqrt(count))
    label = "1-fragment" if count == 1 else f"{count}-fragment-series"
    return Variant(f"{label} (c={width})", paper,
                   lambda w: _conv_stack([(width * w, width * w, 1)] * (count * NUM_BLOCKS)))


def fragments_in_parallel(count: int, channels: int, paper: tuple[float, ...]) -> Variant:
    """G3: ``count`` parallel 1×1 convs c→c/count per block, concatenated."""

    def build(w):
        c = channels * w

        def forward(x, kernels):
            for block in range(NUM_BLOCKS):
                branches = kernels[block * count:(block + 1) * count]
                x = jnp.concatenate([ops.grouped_conv(x, k) for k in branches], axis=-1)
            return x

        return forward, _kernels([(1, 1, c, c // count)] * (count * NUM_BLOCKS)), c

    return Variant(f"{count}-fragment-parallel (c={channels})", paper, build)


def bottleneck(*, relu: bool, shortcut: bool, paper: tuple[float, ...]) -> Variant:
    """G4: 10 bottleneck units of width c (4c in/out), ReLUs and shortcut switchable; width ×1/×2/×4 is
    c = 32/64/128."""

    def build(w):
        c = 32 * w
        act = jax.nn.relu if relu else (lambda x: x)

        def forward(x, kernels):
            for reduce, spatial, expand in zip(*[iter(kernels)] * 3):
                y = act(ops.grouped_conv(x, reduce))
                y = act(ops.grouped_conv(y, spatial))
                y = ops.grouped_conv(y, expand)
                x = act(x + y if shortcut else y)
            return x

        return forward, _kernels([(1, 1, 4 * c, c), (3, 3, c, c), (1, 1, c, 4 * c)] * NUM_BLOCKS), 4 * c

    return Variant(f"ReLU {'yes' if relu else 'no'}, shortcut {'yes' if shortcut else 'no'}", paper, build)


# ShuffleNet V2 (Ma et al. 2018) Tables 1–4, CPU/ARM columns (images/s) for width ×1, ×2, ×4.
EXPERIMENTS: dict[str, tuple[str, list[Variant]]] = {
    "G1": ("equal channel width minimises memory access cost (Table 1, ARM, c1:c2 at fixed FLOPs)", [
        channel_ratio(32, 32, (76.2, 21.7, 5.3)),
        channel_ratio(22, 44, (72.9, 20.5, 5.1)),
        channel_ratio(13, 78, (69.1, 17.9, 4.6)),
        channel_ratio(9, 108, (57.6, 15.1, 4.4)),
    ]),
    "G2": ("excessive group convolution increases MAC (Table 2, CPU, groups at fixed FLOPs)", [
        group_count(1, 64, (40.0, 10.2, 2.3)),
        group_count(2, 90, (35.0, 9.5, 2.2)),
        group_count(4, 128, (32.9, 8.7, 2.1)),
        group_count(8, 180, (27.8, 7.5, 1.8)),
    ]),
    "G3": ("network fragmentation reduces parallelism (Table 3, CPU, c = 64/128/256)", [
        fragments_in_series(1, 64, (40.2, 10.1, 2.3)),
        fragments_in_series(2, 64, (38.6, 10.1, 2.2)),
        fragments_in_series(4, 64, (38.4, 10.1, 2.3)),
        fragments_in_parallel(2, 64, (33.4, 9.1, 2.2)),
        fragments_in_parallel(4, 64, (35.0, 8.4, 2.1)),
    ]),
    "G4": ("element-wise operations are non-negligible (Table 4, CPU, c = 32/64/128)", [
        bottleneck(relu=True, shortcut=True, paper=(56.7, 16.9, 5.0)),
        bottleneck(relu=True, shortcut=False, paper=(61.9, 18.8, 5.2)),
        bottleneck(relu=False, shortcut=True, paper=(57.3, 18.2, 5.1)),
        bottleneck(relu=False, shortcut=False, paper=(66.3, 20.2, 5.4)),
    ]),
}


def images_per_second(variant: Variant, width: int, impl: str, *, batch: int, repeats: int) -> float:
    """Forward images/s of ``variant`` at ``width`` with the ops' ``impl`` ('auto' or 'canonical')."""
    forward, kernels, channels = variant.build(width)
    x = jax.random.normal(jax.random.key(1), (batch, SPATIAL, SPATIAL, channels), jnp.float32)
    jitted = jax.jit(forward)
    compiled = common.lower_and_compile(jitted, x, kernels, canonical=impl == "canonical")
    timing = common.median_seconds(lambda: jax.block_until_ready(compiled(x, kernels)), repeats=repeats,
                                   budget_s=20.0)
    return batch / timing["median_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", default="G1,G2,G3,G4")
    parser.add_argument("--impls", default="auto,canonical", help="comma-separated: auto, canonical")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="smoke run: width ×1 only, one repeat")
    parser.add_argument("--output", type=pathlib.Path, default=None,
                        help="JSON path (default benchmarks/results/guidelines_<backend>.json)")
    common.add_compilation_cache_argument(parser)
    args = parser.parse_args()
    names = [n for n in args.experiments.split(",") if n]
    unknown = sorted(set(names) - set(EXPERIMENTS))
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; valid: {', '.join(EXPERIMENTS)}")
    impls = [i for i in args.impls.split(",") if i]
    if set(impls) - {"auto", "canonical"}:
        parser.error("--impls takes auto and/or canonical")
    widths, repeats = ((1,), 1) if args.quick else (WIDTHS, args.repeats)
    common.enable_compilation_cache(parser, args.compilation_cache_dir)

    metadata = common.run_metadata()
    print(f"{metadata['backend']} {metadata['device']} ({metadata['machine']}), jax {metadata['jax']}, "
          f"batch {args.batch}, load {metadata['load_average_1m_start']:.2f}")
    experiments = []
    for name in names:
        title, variants = EXPERIMENTS[name]
        print(f"\n{name}: {title}\n{'variant':<44} {'width':>5} {'paper img/s':>11} "
              + " ".join(f"{impl + ' img/s':>15}" for impl in impls))
        rows = []
        for variant in variants:
            for width in widths:
                measured = {impl: images_per_second(variant, width, impl, batch=args.batch, repeats=repeats)
                            for impl in impls}
                paper = variant.paper[WIDTHS.index(width)]
                rows.append({"variant": variant.label, "width": width, "paper_images_per_s": paper,
                             "images_per_s": measured})
                print(f"{variant.label:<44} {'×' + str(width):>5} {paper:>11.1f} "
                      + " ".join(f"{measured[impl]:>15.1f}" for impl in impls), flush=True)
        experiments.append({"name": name, "title": title, "rows": rows})
    common.write_results({**metadata, "batch": args.batch, "repeats": repeats, "spatial": SPATIAL,
                          "impls": impls, "experiments": experiments}, "guidelines", args.output)


if __name__ == "__main__":
    host_memory.reexec_with_hugepage_malloc()
    main()
