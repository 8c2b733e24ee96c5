"""Learning-rate schedules against the papers' formulas."""

import math

import pytest

import train_fakes
from train_lib import schedules

STEPS_PER_EPOCH = 10


def schedule_of(**overrides):
    config = train_fakes.tiny_config(warmup_epochs=0.0, **overrides)
    return schedules.create_learning_rate_schedule(config, steps_per_epoch=STEPS_PER_EPOCH, num_train_steps=400)


def test_exponential_decays_by_rate_once_per_epoch():
    lr = schedule_of(schedule="exponential", learning_rate=0.045, lr_decay_rate=0.98, lr_decay_epochs=1.0)
    assert float(lr(3 * STEPS_PER_EPOCH - 1)) == pytest.approx(0.045 * 0.98**2)
    assert float(lr(3 * STEPS_PER_EPOCH)) == pytest.approx(0.045 * 0.98**3)


def test_multistep_divides_by_ten_at_each_boundary():
    lr = schedule_of(schedule="multistep", learning_rate=0.1, lr_boundaries_epochs=(20, 30, 35))
    values = [float(lr(e * STEPS_PER_EPOCH)) for e in (19, 20, 30, 35)]
    assert values == pytest.approx([0.1, 0.01, 0.001, 0.0001])


def test_polynomial_power_one_is_linear_to_zero():
    lr = schedule_of(schedule="polynomial", learning_rate=0.1, lr_power=1.0, lr_end=0.0)
    assert [float(lr(s)) for s in (0, 100, 200, 400)] == pytest.approx([0.1, 0.075, 0.05, 0.0])


def test_cosine_after_linear_warmup():
    config = train_fakes.tiny_config(schedule="cosine", learning_rate=0.35, warmup_epochs=5.0)
    lr = schedules.create_learning_rate_schedule(config, steps_per_epoch=STEPS_PER_EPOCH, num_train_steps=450)
    assert float(lr(0)) == pytest.approx(0.0)
    assert float(lr(25)) == pytest.approx(0.175)
    assert float(lr(50)) == pytest.approx(0.35)
    assert float(lr(50 + 200)) == pytest.approx(0.35 * 0.5 * (1 + math.cos(math.pi * 0.5)), abs=1e-7)
    assert float(lr(450)) == pytest.approx(0.0, abs=1e-7)


def test_epochs_to_steps_covers_partial_epochs():
    assert schedules.epochs_to_steps(2.5, 4) == 10
    assert schedules.epochs_to_steps(0.1, 4) == 1
