"""The matcher: pure and vectorized, no store.

``model`` (levels, weights, records prepared as codes), ``blocking`` (candidate pairs),
``compare`` (levels and weights per pair), ``cluster`` (initiatives from links). ``index`` keeps
resolved records coded in the store for incremental nights; it is not re-exported here.
"""
from sangkien.pipeline.match.blocking import (
    BLOCKING_RULES,
    blocking_keys,
    candidate_pairs,
    sorted_unique,
)
from sangkien.pipeline.match.cluster import (
    Resolution,
    cluster,
    components,
    prepare_frame,
    resolve_frame,
    resolve_prepared,
)
from sangkien.pipeline.match.compare import (
    COMPARE_CHUNK,
    compare,
    evidence,
    weigh,
)
from sangkien.pipeline.match.model import (
    CODE_SCHEME,
    DATE_COLUMNS,
    DEFAULT_MODEL,
    DEFAULT_PRIOR,
    DEFAULT_WEIGHTS,
    FEATURES,
    LEVELS,
    NO_DAY,
    MatchModel,
    Prepared,
    concat_prepared,
    hash_codes,
    parent_codes,
    prepare,
)

__all__ = [
    "BLOCKING_RULES",
    "CODE_SCHEME",
    "COMPARE_CHUNK",
    "DATE_COLUMNS",
    "DEFAULT_MODEL",
    "DEFAULT_PRIOR",
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "LEVELS",
    "NO_DAY",
    "MatchModel",
    "Prepared",
    "Resolution",
    "blocking_keys",
    "candidate_pairs",
    "cluster",
    "compare",
    "components",
    "concat_prepared",
    "evidence",
    "hash_codes",
    "parent_codes",
    "prepare",
    "prepare_frame",
    "resolve_frame",
    "resolve_prepared",
    "sorted_unique",
    "weigh",
]
