"""Own tfds builders; importing this package registers them with tfds (no data is built)."""

from input_pipeline.builders.digits import Digits
from input_pipeline.builders.tiny_imagenet import TinyImagenet

__all__ = ["Digits", "TinyImagenet"]
