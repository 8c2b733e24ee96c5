"""Model analysis: params/MAdds under the papers' convention, channel dependency graphs, clcNet's cost model."""

from lightnets.analysis.channel_graph import (
    channel_dependency, channel_receptive_fields, compose, has_full_channel_receptive_field,
)
from lightnets.analysis.clc_cost import clc_block_cost, feasible_groups, minimize_clc_cost
from lightnets.analysis.counting import LayerCount, ModelCounts, count_model, madds_by_scope
