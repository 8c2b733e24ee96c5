"""The GPU entries of AUTO_CHOICES (not measured on a GPU: chosen by a structural rule, docs/ops.md) trace the
paper nets' structured convolutions without the grouped-convolution kinds whose backward XLA:GPU runs at dense
cost (jax#13800). Traced on this CPU with ``target_backend('gpu')``: forward and the gradient of a train loss."""

import jax
import jax.numpy as jnp
import pytest

from lightnets import create_model, ops

from .test_dispatch import _equations

PAPER_NETS = ("clcnet_a", "igcv3_d100", "seesaw_shuffle_d100")


def _train_step_convolutions(name: str, backend: str) -> list:
    """The conv_general_dilated equations of forward + backward of ``name``'s train loss, traced for ``backend``."""
    model = create_model(name, num_classes=10)
    images = jax.ShapeDtypeStruct((2, 64, 64, 3), jnp.bfloat16)
    variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), images)

    def loss(params, x, batch_stats):
        logits, _ = model.apply({"params": params, "batch_stats": batch_stats}, x, train=True, mutable=["batch_stats"])
        return logits.astype(jnp.float32).sum()

    with ops.target_backend(backend):
        jaxpr = jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(variables["params"], images, variables["batch_stats"])
    return [eqn for eqn in _equations(jaxpr.jaxpr) if eqn.primitive.name == "conv_general_dilated"]


def _slow_kind(eqn) -> str | None:
    """Why a convolution is a slow grouped kind on XLA:GPU, or None: it is dense or depthwise-shaped.

    Depthwise-shaped: feature_group_count equal to the input's feature size (forward and input gradient of a
    depthwise conv) or batch_group_count equal to the input's batch size (a depthwise conv's kernel gradient,
    which XLA:GPU maps to cuDNN's depthwise backward-filter)."""
    lhs_spec = eqn.params["dimension_numbers"].lhs_spec
    lhs = eqn.invars[0].aval.shape
    batch, features = lhs[lhs_spec[0]], lhs[lhs_spec[1]]
    fgc, bgc = eqn.params["feature_group_count"], eqn.params["batch_group_count"]
    if fgc not in (1, features):
        return f"feature_group_count={fgc} of {features} input features"
    if bgc not in (1, batch):
        return f"batch_group_count={bgc} of batch {batch}"
    return None


@pytest.mark.parametrize("name", PAPER_NETS)
def test_gpu_choice_traces_no_slow_grouped_convolution(name):
    slow = [(_slow_kind(e), e.invars[0].aval.shape) for e in _train_step_convolutions(name, "gpu") if _slow_kind(e)]
    assert not slow, slow[:5]


def test_the_check_sees_the_canonical_forms_slow_convolutions():
    """Without the GPU entries (canonical lax everywhere) the same trace has slow grouped convolutions."""
    with ops.canonical_only():
        convolutions = _train_step_convolutions("clcnet_a", "gpu")
    kinds = {(_slow_kind(e) or "").split("=")[0] for e in convolutions}
    assert {"feature_group_count", "batch_group_count"} <= kinds
