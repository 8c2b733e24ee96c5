"""ONNX export of a registered model's eval-mode forward (BatchNorm with its running statistics, no dropout):
``python -m lightnets.export NAME --out PATH.onnx [--image-size N] [--batch-size N] [--num-classes K]
[--weights FILE.msgpack] [--opset V]``.

The exporter is jax2onnx with onnx and onnxruntime (``requirements-export.txt``; imported only here, only
when exporting). Every structured op is traced in its canonical implementation (plain lax: grouped and
depthwise convolutions become ONNX ``Conv`` with ``group``, pools ``MaxPool``, for the runtime's own
kernels) except those in ``EXPORT_IMPLS``, and the graph is converted from that jaxpr, never by re-tracing
Flax code under jax2onnx: its shims for ``flax.linen`` functions (e.g. ``max_pool``) take only string
padding, and our ops pass explicit pads. One lowering of jax2onnx 0.17 is rewritten (``_nchw_max_pools``): a
max pool of an NHWC tensor becomes a 4-D ``MaxPool`` over (N, H, W, C), which onnxruntime refuses
("Unsupported pooling size"); the op's shifted-slices form runs, but makes SqueezeNet 1.1 ~8× slower than
2-D ``MaxPool`` nodes do (batch 1 at 224 px on 2 cores: 34 ms against 4 ms).

``--weights`` reads a lightnets weights file (``lightnets.pretrained``: its model must be NAME, and its model
options, e.g. ``num_classes``, apply unless ``--num-classes`` is given) or any file written by
``flax.serialization.msgpack_serialize({"variables": variables, ...})``; without it the model's ``init`` at
``jax.random.key(0)`` is exported. Missing parent directories of ``--out`` are created.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import pathlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import flax.serialization
import jax
import jax.extend.core
import jax.numpy as jnp

from lightnets import ops
from lightnets.pretrained import WEIGHTS_SUFFIX
from lightnets.registry import canonical_name, create_model

DEFAULT_OPSET = 23  # jax2onnx 0.17's default; onnxruntime 1.32 runs it
MIN_OPSET = 13  # jax2onnx writes opset-13 forms (axes of Split, Unsqueeze, ReduceSum as inputs)
INPUT_NAME, OUTPUT_NAME = "images", "logits"
# Ops exported in another implementation than their canonical one. channel_shuffle: one Gather, where the
# canonical reshape-transpose-reshape is a 5-D Transpose that onnxruntime runs slowly (batch 1 at 224 px on 2
# cores: ShuffleNet V2 1.0× 7.8 → 4.8 ms, SeesawNet shuffle d100 47 → 24 ms).
EXPORT_IMPLS = {"channel_shuffle": "gather"}


def export_onnx(
    model: nn.Module, variables: Mapping[str, Any], *, input_shape: Sequence[int], path: str | os.PathLike,
    opset: int = DEFAULT_OPSET,
) -> None:
    """Writes ``model.apply(variables, x, train=False)`` as one self-contained ONNX file at ``path``.

    The ONNX graph has one input ``images``, float32 NHWC ``[N, H, W, 3]`` = ``input_shape`` (fixed shape),
    and one output ``logits``, float32 ``[N, num_classes]``; ``variables`` (``params`` and ``batch_stats``)
    become initializers.

    Raises:
      ValueError: ``input_shape`` is not four positive sizes with 3 channels, ``path`` does not end in
        ``.onnx`` or cannot be written, ``opset`` is not in [``MIN_OPSET``, the newest the installed onnx
        knows], or the model cannot run at that input (e.g. too small for its pools).
      ModuleNotFoundError: jax2onnx (``requirements-export.txt``) is not installed.
    """
    shape = tuple(input_shape)
    if len(shape) != 4 or shape[-1] != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"input_shape must be [N, H, W, 3] with positive sizes, got {list(shape)}")
    if pathlib.Path(path).suffix != ".onnx":
        raise ValueError(f"the output path must end in .onnx, got {os.fspath(path)!r}")
    import onnx
    from jax2onnx import to_onnx

    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"opset {opset} is not in [{MIN_OPSET}, {onnx.defs.onnx_opset_version()}]")
    spec = jax.ShapeDtypeStruct(shape, jnp.float32)
    try:
        with ops.recording() as calls:
            jax.eval_shape(lambda x: model.apply(variables, x, train=False), spec)
        with ops.tuned_choices({key: EXPORT_IMPLS.get(call.op, call.applicable[0]) for key, call in calls.items()}):
            # A new function object: JAX caches traces by function, and this trace must see these choices.
            closed = jax.make_jaxpr(lambda x: model.apply(variables, x, train=False))(spec)
    except ValueError as error:
        raise ValueError(f"{type(model).__name__} cannot run on input {list(shape)}: {error}") from error
    proto = to_onnx(lambda x: jax.extend.core.jaxpr_as_fun(closed)(x)[0], inputs=[spec],
                    model_name=type(model).__name__, opset=opset, input_names=[INPUT_NAME],
                    output_names=[OUTPUT_NAME])
    _nchw_max_pools(proto.graph)
    onnx.checker.check_model(proto)
    try:
        os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
        onnx.save_model(proto, os.fspath(path))
    except OSError as error:
        raise ValueError(f"cannot write {os.fspath(path)!r}: {error.strerror}") from None


def _nchw_max_pools(graph) -> None:
    """Rewrites in place each max pool of an NHWC tensor in ``graph`` (an ``onnx.GraphProto``) as
    onnxruntime can run it.

    jax2onnx lowers ``lax.reduce_window`` max with window (1, k_h, k_w, 1) as Unsqueeze, Unsqueeze, a 4-D
    ``MaxPool`` over [1, 1, N, H, W, C], Squeeze. That becomes Transpose to NCHW, a 2-D ``MaxPool`` with
    the window's H and W kernel, strides, dilations and pads, Transpose back to NHWC (which onnxruntime's
    layout optimiser merges with the convolutions' own transposes). Initializers and value_info entries
    left unused are removed.
    """
    import onnx

    producer = {name: node for node in graph.node for name in node.output}
    consumers = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    rewrites, dropped = {}, set()  # pool output -> its new nodes; outputs of the nodes that go
    for node in graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "MaxPool" or len(attrs.get("kernel_shape", ())) != 4:
            continue
        inner = producer[node.input[0]]
        outer = producer[inner.input[0]]
        (squeeze,) = consumers[node.output[0]]
        spatial = {name: list(attrs[name])[1:3] for name in ("kernel_shape", "strides", "dilations") if name in attrs}
        pads = list(attrs.get("pads", [0] * 8))  # begins, then ends, of the axes (N, H, W, C)
        nchw, pooled = f"{node.output[0]}_nchw", f"{node.output[0]}_pooled"
        rewrites[node.output[0]] = [
            onnx.helper.make_node("Transpose", outer.input[:1], [nchw], perm=[0, 3, 1, 2]),
            onnx.helper.make_node("MaxPool", [nchw], [pooled], pads=pads[1:3] + pads[5:7], **spatial),
            onnx.helper.make_node("Transpose", [pooled], squeeze.output, perm=[0, 2, 3, 1]),
        ]
        dropped |= {outer.output[0], inner.output[0], squeeze.output[0]}
    nodes = []
    for node in graph.node:
        if node.output[0] in rewrites:
            nodes += rewrites[node.output[0]]
        elif node.output[0] not in dropped:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    produced = {name for node in nodes for name in node.output}
    for field, keep in ((graph.initializer, used), (graph.value_info, produced)):
        kept = [entry for entry in field if entry.name in keep]
        del field[:]
        field.extend(kept)


def _read_weights(path: str, name: str) -> tuple[Any, dict[str, Any]]:
    """(variables, model options) from ``--weights``: a lightnets weights file (``lightnets.pretrained``,
    whose model must be ``name``; its model options, e.g. ``num_classes``, come with it) or any
    ``flax.serialization.msgpack_serialize`` file with a ``variables`` entry (no options).

    Raises ValueError (one line) for a missing file, a PyTorch/other file, one without variables, or a
    weights file of another model.
    """
    if not path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"--weights {path!r} is not a lightnets weights file ({WEIGHTS_SUFFIX}); a PyTorch "
                         f"state_dict is converted first: python -m lightnets.pretrained.convert {name} {path} "
                         f"OUT{WEIGHTS_SUFFIX}")
    if not os.path.isfile(path):
        raise ValueError(f"--weights {path!r} does not exist")
    try:
        restored = flax.serialization.msgpack_restore(pathlib.Path(path).read_bytes())
    except Exception as error:  # OSError, or whatever msgpack raises on a file that is not msgpack
        raise ValueError(f"--weights {path!r}: cannot read it as msgpack ({error})") from error
    if not isinstance(restored, dict) or "variables" not in restored:
        raise ValueError(f"--weights {path!r}: no 'variables' entry")
    if "model" in restored and restored["model"] != canonical_name(name):
        raise ValueError(f"--weights {path!r} holds {restored['model']} weights, not {canonical_name(name)}")
    return restored["variables"], dict(restored.get("model_options", {}))


def _check_variables(path: str, variables: Any, expected: Any) -> None:
    """Raises ValueError when ``variables``' array names and shapes differ from ``expected`` (a pytree of
    arrays or ``jax.ShapeDtypeStruct``: the model's ``init`` under ``jax.eval_shape``)."""
    if _shapes(variables) != _shapes(expected):
        raise ValueError(f"--weights {path!r}: its variables' names or shapes differ from the model's "
                         "(--num-classes or --image-size?)")


def _shapes(tree: Any) -> dict[str, tuple[int, ...]]:
    """Each array's path in ``tree`` → its shape."""
    return {jax.tree_util.keystr(path): tuple(leaf.shape) for path, leaf in jax.tree_util.tree_leaves_with_path(tree)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lightnets.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="registered model name (python -m lightnets.summary --list)")
    parser.add_argument("--out", required=True, help="output file, ending in .onnx")
    parser.add_argument("--image-size", type=int, help="square input side (default: the model's own)")
    parser.add_argument("--batch-size", type=int, default=1, help="fixed batch size of the graph (default 1)")
    parser.add_argument("--num-classes", type=int, help="classifier outputs (default: the model's own)")
    parser.add_argument("--weights", help="lightnets weights file, .msgpack (default: random init)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    args = parser.parse_args(argv)
    try:
        if pathlib.Path(args.out).suffix != ".onnx":
            raise ValueError(f"--out must end in .onnx, got {args.out!r}")
        for flag, value in (("--image-size", args.image_size), ("--batch-size", args.batch_size),
                            ("--num-classes", args.num_classes)):
            if value is not None and value < 1:
                raise ValueError(f"{flag} must be a positive integer, got {value}")
        variables, options = _read_weights(args.weights, args.name) if args.weights else (None, {})
        if args.num_classes is not None:
            options["num_classes"] = args.num_classes
        model = create_model(args.name, **options)
        size = args.image_size or type(model).default_input_size
        shape = (args.batch_size, size, size, 3)
        init = functools.partial(model.init, jax.random.key(0), jnp.zeros(shape, jnp.float32), train=False)
        try:
            expected = jax.eval_shape(init)
        except ValueError as error:
            raise ValueError(f"{args.name} cannot run at --image-size {size}: {error}") from error
        if variables is None:
            variables = jax.jit(init)()
        else:
            _check_variables(args.weights, variables, expected)
        export_onnx(model, variables, input_shape=shape, path=args.out, opset=args.opset)
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {INPUT_NAME} float32{list(shape)} -> {OUTPUT_NAME} float32[{shape[0]}, "
          f"{model.num_classes}], opset {args.opset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
