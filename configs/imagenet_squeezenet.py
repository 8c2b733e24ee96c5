"""SqueezeNet on ImageNet (Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters
and <0.5MB model size"), the official Caffe solver.

    .venv/bin/python main.py --config=configs/imagenet_squeezenet.py:squeezenet1_0 --workdir=/tmp/squeezenet
    arg: squeezenet1_0 | squeezenet1_1 | squeezenet1_0_bypass

Paper result: SqueezeNet Table 2, 57.5% top-1 / 80.3% top-5 (v1.0); forresti/SqueezeNet
SqueezeNet_v1.1/README.md: v1.1 ≥ 80.3% top-5 with 2.4× less computation.

The paper gives no training hyperparameters; all come from the reference code, forresti/SqueezeNet:
SqueezeNet_v1.0/solver.prototxt (the same in SqueezeNet_v1.1/) — base_lr 0.04, lr_policy "poly" with power
1.0 (linear to 0 at max_iter, evaluated every iteration), max_iter 170,000, momentum 0.9, weight_decay 2e-4,
batch_size 32 × iter_size 16 = 512 (gradients summed then normalised: one batch of 512) → 170,000·512 /
1,281,167 ≈ 68 epochs; Caffe's SGD puts the lr inside the momentum history (lr_in_momentum) and decays every
learnable blob with the default decay_mult 1 (the prototxts set none: weights and biases) → 'all'.
train_val.prototxt: dropout 0.5 before conv10 (the model's default); transform_param crop_size 227 (v1.0 and
v1.1), mean_value 104/117/123 (BGR) subtracted from 0–255 pixels, no scaling, no mirror → image 227,
mean (123, 117, 104)/255 with std 1/255, random_flip False; eval centre 227 crop of the 256 px images →
eval_crop_ratio 227/256. No BN, no label smoothing, no averaging.

Deviations kept: the Caffe data layer crops a random 227 square from images squashed to 256×256 (no scale
augmentation) and evaluates on the squashed image; input_pipeline has no such op, so training uses the
Inception crop (area 8–100%, stronger augmentation) and eval the central square of the shorter side. The
released v1.0 caffemodel was trained with the repository's first solver (base_lr 0.08, poly power 0.5,
max_iter 85,000, iter_size 32, commit 19c381d); the current solver above, which the commit replacing it
reports as reaching equal or better accuracy, is used.
"""

import ml_collections

from configs import default

ITERATIONS, BATCH = 170_000, 512
CAFFE_BGR_MEAN = (104, 117, 123)


def caffe_input(config: ml_collections.ConfigDict) -> None:
    """The Caffe data layer's input as far as input_pipeline can express it: 227 px, mean-subtracted 0–255
    pixels (RGB order), no mirror, eval crop 227 of 256."""
    config.data.image_size = 227
    config.data.eval_crop_ratio = 227 / 256
    config.data.random_flip = False
    config.data.mean = tuple(value / 255 for value in reversed(CAFFE_BGR_MEAN))
    config.data.std = (1 / 255,) * 3


def get_config(model: str = "squeezenet1_0") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model)
    caffe_input(config)
    config.batch_size = BATCH
    config.num_train_steps = ITERATIONS
    config.optimizer = "sgd"
    config.momentum = 0.9
    config.nesterov = False
    config.lr_in_momentum = True
    config.learning_rate = 0.04
    config.schedule = "polynomial"
    config.lr_power = 1.0
    config.weight_decay = 2e-4
    config.weight_decay_params = "all"
    config.log_every_steps = 200
    config.checkpoint_every_steps = 2000
    return config
