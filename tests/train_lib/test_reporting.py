"""Progress lines: speed measured after the first (compiling) step and without evaluation; ETA as h:mm:ss."""

import pytest

from train_lib import reporting


@pytest.mark.parametrize("seconds, text", [(0, "0:00:00"), (59.6, "0:01:00"), (3725, "1:02:05"), (90061, "25:01:01")])
def test_format_duration(seconds, text):
    assert reporting.format_duration(seconds) == text


def test_speed_excludes_the_first_step_and_evaluation(monkeypatch):
    clock = iter([100.0, 130.0, 150.0, 150.0, 150.0])  # launch, end of step 1, then three readings at 150
    monkeypatch.setattr(reporting.time, "perf_counter", lambda: next(clock))
    progress = reporting.Progress(first_step=0, num_train_steps=100, batch_size=32)
    progress.start()  # step 1 (compilation) ends at t=130
    assert progress.compile_seconds == 30.0
    progress.pause(10.0)  # one 10 s evaluation between t=130 and t=150
    assert progress.steps_per_second(11) == pytest.approx(10 / (20 - 10))  # steps 2..11 in 10 s of training
    line = progress.line(11, {"loss": 0.5, "accuracy": 0.75}, learning_rate=0.1, evals_left=2)
    assert line == ("step 11/100 (11%)  loss 0.5000  accuracy 75.0%  lr 0.1  32 img/s  1.00 steps/s  "
                    "ETA 0:01:49")  # 89 steps at 1/s + 2 evaluations of 10 s
    assert progress.scalars(11) == {"train/steps_per_sec": pytest.approx(1.0), "train/images_per_sec": pytest.approx(32)}


def test_no_speed_before_two_steps():
    progress = reporting.Progress(first_step=40, num_train_steps=100, batch_size=8)
    assert progress.steps_per_second(41) is None
    assert progress.line(41, {"loss": 1.0, "accuracy": 0.5}, learning_rate=0.01, evals_left=0).endswith("lr 0.01")
