"""MobileNet V1 / V2 on ImageNet with TensorFlow's RMSProp (Howard et al. 2017, "MobileNets: Efficient
Convolutional Neural Networks for Mobile Vision Applications"; Sandler et al. 2018, "MobileNetV2: Inverted
Residuals and Linear Bottlenecks").

    .venv/bin/python main.py --config=configs/imagenet_mobilenet.py:mobilenet_v2_100 --workdir=/tmp/mbv2
    .venv/bin/python main.py --config=configs/imagenet_mobilenet.py:mobilenet_v1_100 --workdir=/tmp/mbv1
    arg: any registered mobilenet_v1_* / mobilenet_v2_* name

Paper results: MobileNet V1 1.0-224 70.6% top-1 (MobileNets Table 4); MobileNetV2 1.0-224 72.0%
top-1 (MobileNetV2 §6.1, ImageNet results table; tensorflow/models research/slim/nets/mobilenet/README.md
states that its training flags reach 72.0%).

Both nets (MobileNetV2 §6.1 "Training setup", which follows "MobileNetV1 setup"): TF RMSPropOptimizer with
decay 0.9 and momentum 0.9; ε not stated → 1.0, the --opt_epsilon default of TF-slim
train_image_classifier.py (Inception V3 §8 also uses ε = 1.0); lr 0.045 × 0.98 per epoch, staircase (TF
exponential_decay(staircase=True) as train_image_classifier.py builds it); batch 96 (the paper's 16
asynchronous workers with 96 each; we train synchronously at 96); weight decay 4e-5 as TF's l2_regularizer
(4e-5·Σw²/2) on conv and FC kernels, depthwise kernels not decayed (MobileNets §3.2 "very little or no weight
decay ... on the depthwise filters"; TF-slim nets/mobilenet_v1.py mobilenet_v1_arg_scope
regularize_depthwise=False, nets/mobilenet/mobilenet.py training_scope sets weights_regularizer=None for
separable_conv2d, the depthwise layers); no BN γ/β or bias decay. Input: TF-slim
preprocessing/inception_preprocessing.py (preprocessing_factory.py maps both nets to it): pixels in [-1, 1].

V1 only: lr decay 0.98 per epoch is our reading of MobileNetV2 §6.1 ("Following MobileNetV1 setup we use
initial learning rate of 0.045, and learning rate decay rate of 0.98 per epoch"); MobileNets §3.2 only says
"RMSprop with asynchronous gradient descent similar to Inception V3" (Inception V3 §8: ×0.94 every 2 epochs),
and TF-slim nets/mobilenet_v1_train.py uses ×0.94 every 2.5 epochs with plain gradient descent at batch 64.
No label smoothing (MobileNets §3.2); BN decay 0.9997, ε 1e-3 and dropout keep 0.999 (mobilenet_v1_arg_scope,
mobilenet_v1()). Crop area: MobileNets §3.2 limits "the size of small crops" without a value; our choice
(0.08, 1). Epochs: not stated; our choice 200. No EMA (none stated).

V2 only: BN decay 0.997, ε 1e-3 (slim.batch_norm's default) and dropout keep 0.8 (mobilenet.py
training_scope). The README's train_image_classifier flags add --label_smoothing=0.1 and
--moving_average_decay=0.9999 (tf.train.ExponentialMovingAverage(0.9999, global_step) over
slim.get_model_variables(), BN moving statistics included) → label_smoothing 0.1, ema_decay 0.9999 with the
TF num_updates warmup; --preprocessing_name=inception_v2 → crop area (0.05, 1), distorted_bounding_box_crop's
default. Epochs: not stated in the paper; the README's "full convergence is after 5.5M steps" on one GPU at
batch 96 → 412 epochs. The README's --num_epochs_per_decay=2.5/NUM_GPUS (×0.98 every 2.5 epochs) disagrees
with the paper's "0.98 per epoch"; the paper is followed.

Deviations kept: inception_preprocessing's random colour distortion is not implemented by input_pipeline
(none applied); eval crops the central square of 87.5% of the shorter side instead of TF-slim's central
87.5% of each side squashed to 224²; synchronous updates; BN over the global batch (TF-slim's clones each
normalised their own 96: --config.bn_mode=per_device on a matching device count); no gradient clipping
(Inception V3 §8 clips at 2.0, MobileNets does not say so and train_image_classifier.py does not clip).
"""

import ml_collections

from configs import default

IMAGENET_TRAIN_IMAGES = 1_281_167
# Model options from the TF-slim arg scopes: BN decay (= Flax momentum), BN ε, dropout = 1 − keep_prob.
TF_SLIM_MODEL_OPTIONS = {
    "mobilenet_v1_": dict(bn_momentum=0.9997, bn_epsilon=1e-3, dropout_rate=0.001),
    "mobilenet_v2_": dict(bn_momentum=0.997, bn_epsilon=1e-3, dropout_rate=0.2),
}


def get_config(model: str = "mobilenet_v2_100") -> ml_collections.ConfigDict:
    family = model[:len("mobilenet_v1_")]
    if family not in TF_SLIM_MODEL_OPTIONS:
        raise ValueError(f"model {model!r}; valid: a mobilenet_v1_* or mobilenet_v2_* name")
    config = default.get_config("imagenet2012", model, **TF_SLIM_MODEL_OPTIONS[family])
    config.data.normalization = "minus_one_to_one"
    config.batch_size = 96
    config.optimizer = "rmsprop"
    config.momentum = 0.9
    config.rmsprop_decay = 0.9
    config.rmsprop_epsilon = 1.0
    config.rmsprop_initial_scale = 1.0
    config.learning_rate = 0.045
    config.schedule = "exponential"
    config.lr_decay_rate, config.lr_decay_epochs = 0.98, 1.0
    config.weight_decay = 4e-5
    config.weight_decay_params = "kernels_except_depthwise"
    if family == "mobilenet_v2_":
        config.data.crop_area_range = (0.05, 1.0)
        config.num_epochs = 5_500_000 * 96 / IMAGENET_TRAIN_IMAGES
        config.label_smoothing = 0.1
        config.ema_decay, config.ema_warmup = 0.9999, True
    else:
        config.num_epochs = 200.0
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
