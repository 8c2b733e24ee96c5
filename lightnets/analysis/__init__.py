"""Model analysis: params/MAdds under the papers' convention, channel dependency graphs and FCRF (clcNet §3).

The analysis reads models (``lightnets.blocks.DescribesBlocks``, the jaxpr of ``model.apply``); models never
import it.
"""

from lightnets.analysis.channel_graph import (
    block_fcrf, block_notes, channel_dependency, channel_receptive_fields, compose, has_full_channel_receptive_field,
)
from lightnets.analysis.counting import LayerCount, ModelCounts, count_model, madds_by_scope
