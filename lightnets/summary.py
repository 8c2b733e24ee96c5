"""Model summary: ``python -m lightnets.summary NAME [--input-size S] [--num-classes K] [--set key=value ...]
[--layers] [--json]``; ``python -m lightnets.summary --list`` prints every registered name.

Counts follow docs/references.md#counting-convention (see ``lightnets.analysis.counting``). ``--json``
prints one object with ``params`` (all trainable values incl. BN γ/β and biases), ``params_without_bn``,
``bn_params``, ``madds``, ``input_size``, ``num_classes`` and, with ``--layers``, a ``layers`` list. With
``--layers``, networks that describe their blocks (``lightnets.blocks.DescribesBlocks``) get each block's
channel-grouping pattern and FCRF (``lightnets.analysis.block_notes``) as a notes column / ``notes`` key.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import pathlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp

from lightnets.analysis import ModelCounts, block_notes, count_model
from lightnets.registry import create_model, list_models

DTYPE_FIELDS = ("dtype", "param_dtype")


def parse_override(item: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), the value read as a Python literal when it is one, else as a string."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--set expects key=value, got {item!r}")
    if key in DTYPE_FIELDS:
        return key, jnp.dtype(raw)
    try:
        return key, ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key, raw


def format_table(name: str, counts: ModelCounts, notes: Mapping[str, str] | None = None) -> str:
    lines = [f"{name}: input {counts.input_size}x{counts.input_size}, {counts.num_classes} classes"]
    notes = notes or {}
    if counts.layers:
        width = max(len(layer.name) for layer in counts.layers)
        notes_header = "  notes" if notes else ""
        lines.append(
            f"{'layer':<{width}}  {'output':>14}  {'params':>10}  {'BN γβ':>8}  {'MAdds (M)':>10}{notes_header}"
        )
        for layer in counts.layers:
            shape = "x".join(map(str, layer.output_shape[1:])) if layer.output_shape else "-"
            note = f"  {notes[layer.name]}" if layer.name in notes else ""
            lines.append(
                f"{layer.name:<{width}}  {shape:>14}  {layer.params:>10,}  {layer.bn_params:>8,}  "
                f"{layer.madds / 1e6:>10.3f}{note}"
            )
    lines.append(
        f"params {counts.params:,} ({counts.params / 1e6:.3f}M; without BN γβ {counts.params_without_bn:,})  "
        f"MAdds {counts.madds:,} ({counts.madds / 1e6:.2f}M)"
    )
    return "\n".join(lines)


def _emit(text: str) -> int:
    """Prints ``text``; a reader that stops early (``| head``) ends the command quietly, with status 0."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    entry_point = pathlib.Path(sys.argv[0]).name == "lightnets-summary"  # the console script of pyproject.toml
    parser = argparse.ArgumentParser(prog="lightnets-summary" if entry_point else "python -m lightnets.summary",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="registered model name (see --list)")
    parser.add_argument("--list", action="store_true", help="print every registered model name and exit")
    parser.add_argument("--input-size", type=int, help="square input side (default: the model's own)")
    parser.add_argument("--num-classes", type=int, help="classifier outputs (default: the model's own)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a model field")
    parser.add_argument("--layers", action="store_true", help="per-layer breakdown")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.list:
        return _emit("\n".join(list_models()))
        return 0
    if not args.name:
        parser.error("a model name is required (or --list)")
    try:
        overrides = dict(parse_override(item) for item in args.set)
        if args.num_classes is not None:
            overrides["num_classes"] = args.num_classes
        model = create_model(args.name, **overrides)
        input_size = args.input_size or type(model).default_input_size
        if input_size < 1:
            raise ValueError(f"--input-size must be positive, got {input_size}")
        counts = count_model(model, input_size)
        notes = block_notes(model) if args.layers else {}
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        out = {"name": args.name, **counts.as_dict()}
        if args.layers:
            out["layers"] = [
                {"name": layer.name, "output_shape": layer.output_shape, "params": layer.params,
                 "bn_params": layer.bn_params, "madds": layer.madds,
                 **({"notes": notes[layer.name]} if layer.name in notes else {})}
                for layer in counts.layers
            ]
        return _emit(json.dumps(out))
    return _emit(format_table(args.name, counts if args.layers else dataclasses.replace(counts, layers=()), notes))


if __name__ == "__main__":
    sys.exit(main())
