"""PromQL: parsing (promql-parser) and our own evaluator with Prometheus 3.x semantics."""

from .engine import Engine, QueryResult
from .errors import BadQuery, ExecutionError, PromQLError, Timeout, TooManySamples
from .format import format_result, render_json
from .storage import LabelMatcher, MatchOp, MemoryStorage, Queryable
from .values import STALE_NAN, Labels, Matrix, RangeSeries, Sample, Scalar, Series, String, Vector

__all__ = [
    "BadQuery",
    "Engine",
    "ExecutionError",
    "LabelMatcher",
    "Labels",
    "MatchOp",
    "Matrix",
    "MemoryStorage",
    "PromQLError",
    "Queryable",
    "QueryResult",
    "RangeSeries",
    "STALE_NAN",
    "Sample",
    "Scalar",
    "Series",
    "String",
    "Timeout",
    "TooManySamples",
    "Vector",
    "format_result",
    "render_json",
]
