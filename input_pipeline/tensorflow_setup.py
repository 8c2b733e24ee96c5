"""Importing TensorFlow for a JAX program: quietly, and with the accelerators left to JAX."""

import os


def import_tensorflow():
    """``tensorflow`` with its GPUs hidden (it only runs tf.data; JAX owns the accelerators) and without the
    C++ log lines it prints to the stderr file descriptor at import, before any log setting applies."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    tf.config.set_visible_devices([], "GPU")
    return tf
