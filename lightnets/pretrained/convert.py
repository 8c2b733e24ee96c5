"""Converts a published PyTorch state_dict into a lightnets weights file.

    python -m lightnets.pretrained.convert mobilenet_v2_100 mobilenet_v2-b0353104.pth mobilenet_v2_100.msgpack

The output (``.msgpack``: model name, model options, origin, variables) is what ``main.py`` fine-tunes from
(``--config.init_from=FILE``) and evaluates (``--mode=eval --weights=FILE``); it needs neither PyTorch nor the
peer library to read. Exit status 0, or 2 with one stderr line naming the bad argument or tensor.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lightnets import pretrained


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lightnets.pretrained.convert", description=__doc__.split("\n")[0])
    parser.add_argument("model", help=f"an importable model: {', '.join(pretrained.SOURCES)}")
    parser.add_argument("state_dict", help="the peer's state_dict file (.safetensors, or .pth/.pt/.bin with PyTorch)")
    parser.add_argument("output", help=f"the lightnets weights file to write (*{pretrained.WEIGHTS_SUFFIX})")
    args = parser.parse_args(argv)
    if not args.output.endswith(pretrained.WEIGHTS_SUFFIX):
        parser.error(f"output {args.output!r}: lightnets weights files end in {pretrained.WEIGHTS_SUFFIX}")
    try:
        source = pretrained.get_source(args.model)
        model, variables = pretrained.load_pretrained(args.model, args.state_dict)
    except ValueError as error:  # PretrainedError included
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    pretrained.save_weights(args.output, model=source.model, model_options=source.model_options,
                            variables=variables, origin=f"{source.label} {source.weights}: {args.state_dict}")
    print(f"{args.output}: {source.model} from {args.state_dict} ({source.label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
