"""MobileNet V1 / V2 on ImageNet with TensorFlow's RMSProp (Howard et al. 2017; Sandler et al. 2018).

    python main.py --config=configs/imagenet_mobilenet.py:mobilenet_v2_100 --workdir=...
    arg: any registered mobilenet_v1_* / mobilenet_v2_* name

Paper results: MobileNetV1 1.0-224 70.6% top-1 (V1 Table 8; quoted by clcNet Table 5 and SeesawNet Table 5
in shared/seeds); MobileNetV2 1.0 72.0% top-1 (V2 Table 4; SeesawNet Table 5).

V2 hyperparameters (V2 §6.1, recalled): RMSPropOptimizer with decay and momentum 0.9, weight decay 4e-5,
initial lr 0.045 decayed ×0.98 per epoch, batch 96 on 16 asynchronous GPU workers (we train synchronously
at batch 96; seed 000 §5.1 copies this recipe for SeesawNet). RMSProp ε: not stated; TF-slim
train_image_classifier.py's default opt_epsilon = 1.0. Epochs: not stated; we use 400 as SeesawNet did.
V1 hyperparameters (V1 §3.1): "RMSprop with asynchronous gradient descent similar to Inception V3", "very
little or no weight decay on the depthwise filters", less regularisation/augmentation; the rest follows
Inception V3 §8 (recalled): RMSProp decay 0.9, ε 1.0, lr 0.045 ×0.94 every 2 epochs; weight decay 4e-5
(TF-slim default) on every kernel but the depthwise ones; no label smoothing ("less regularization").
Epochs: not stated; we use 200.
"""

import ml_collections

from configs import default


def get_config(model: str = "mobilenet_v2_100") -> ml_collections.ConfigDict:
    config = default.get_config("imagenet2012", model)
    config.optimizer = "rmsprop"
    config.momentum = 0.9
    config.rmsprop_decay = 0.9
    config.rmsprop_epsilon = 1.0
    config.rmsprop_initial_scale = 1.0
    config.learning_rate = 0.045
    config.schedule = "exponential"
    config.weight_decay = 4e-5
    config.batch_size = 96
    if model.startswith("mobilenet_v2_"):
        config.lr_decay_rate, config.lr_decay_epochs = 0.98, 1.0
        config.num_epochs = 400.0
        config.weight_decay_params = "kernels"
    elif model.startswith("mobilenet_v1_"):
        config.lr_decay_rate, config.lr_decay_epochs = 0.94, 2.0
        config.num_epochs = 200.0
        config.weight_decay_params = "kernels_except_depthwise"
    else:
        raise ValueError(f"model {model!r}; valid: a mobilenet_v1_* or mobilenet_v2_* name")
    config.log_every_steps = 500
    config.checkpoint_every_steps = 5000
    return config
