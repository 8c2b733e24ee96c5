"""Small random convolution shapes for hypothesis: odd and even sizes, strides 1 and 2, every padding kind."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from lightnets.ops.padding import explicit_padding


@dataclasses.dataclass(frozen=True)
class ConvShape:
    batch: int
    hw: tuple[int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int]
    padding: object

    def pads(self):
        return explicit_padding(self.padding, self.kernel, self.strides, self.hw)


@st.composite
def conv_shapes(draw, kernels=st.sampled_from([(1, 1), (3, 3), (2, 2), (1, 3), (3, 1), (2, 3)])) -> ConvShape:
    kernel = draw(kernels)
    hw = (draw(st.integers(5, 9)), draw(st.integers(5, 9)))
    strides = (draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2])))
    kinds = ["SAME", "VALID", "explicit"] + (["symmetric"] if kernel[0] % 2 and kernel[1] % 2 else [])
    kind = draw(st.sampled_from(kinds))
    padding = (
        ((draw(st.integers(0, 2)), draw(st.integers(0, 2))), (draw(st.integers(0, 2)), draw(st.integers(0, 2))))
        if kind == "explicit" else kind
    )
    return ConvShape(draw(st.integers(1, 2)), hw, kernel, strides, padding)
