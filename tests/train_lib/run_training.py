"""Subprocess entry for resume tests: ``python run_training.py WORKDIR NUM_STEPS SECONDS_PER_BATCH``.

Trains the tiny config on the fake data on one CPU device; prints ``DONE`` when train_and_evaluate returns.
"""

import sys

from absl import logging

import train_fakes
from train_lib import train_and_evaluate

if __name__ == "__main__":
    logging.set_verbosity(logging.INFO)
    workdir, num_steps, seconds_per_batch = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    config = train_fakes.tiny_config(num_train_steps=num_steps, checkpoint_every_steps=3, log_every_steps=1,
                                     eval_every_epochs=100.0)
    result = train_and_evaluate(config, workdir, data_source=train_fakes.FakeDataSource(
        seconds_per_batch=seconds_per_batch))
    print("DONE", result, flush=True)
