"""Errors of the input pipeline that a user can act on (importable without TensorFlow)."""


class CorruptImageError(ValueError):
    """An image that cannot be decoded or preprocessed, met with ``data.on_corrupt='error'``; the message names
    its record (``tfds_id``) and the two ways around it."""

    def __init__(self, tfds_id: str):
        super().__init__(
            f"undecodable image in record {tfds_id!r} (data.on_corrupt='error'): --config.data.on_corrupt=skip "
            "drops such images and counts them, or write a copy without them once with python -m "
            "input_pipeline.prepare (docs/input_pipeline.md)")
        self.tfds_id = tfds_id
