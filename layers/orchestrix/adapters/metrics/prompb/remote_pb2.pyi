# Hand-written typing stub for the generated remote_pb2.py (protobuf ships no type
# information, and protoc's own .pyi imports untyped google.protobuf modules). It covers
# what Orchestrix uses; keep it in step with remote.proto.
from collections.abc import Iterator
from typing import Generic, TypeVar

from typing_extensions import Self

_T = TypeVar("_T")

DESCRIPTOR: object

class _Message:
    DESCRIPTOR: object
    @classmethod
    def FromString(cls, s: bytes) -> Self: ...
    def SerializeToString(self) -> bytes: ...
    def ByteSize(self) -> int: ...

class _Repeated(Generic[_T]):
    def __iter__(self) -> Iterator[_T]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> _T: ...
    def __bool__(self) -> bool: ...

class _RepeatedMessages(_Repeated[_T]):
    def add(self, **fields: object) -> _T: ...

class _RepeatedScalars(_Repeated[_T]):
    def append(self, value: _T) -> None: ...

class Label(_Message):
    name: str
    value: str
    def __init__(self, *, name: str = ..., value: str = ...) -> None: ...

class Sample(_Message):
    value: float
    timestamp: int
    def __init__(self, *, value: float = ..., timestamp: int = ...) -> None: ...

class Exemplar(_Message):
    labels: _RepeatedMessages[Label]
    value: float
    timestamp: int

class Histogram(_Message):
    sum: float
    schema: int
    timestamp: int

class MetricMetadata(_Message):
    UNKNOWN: int
    COUNTER: int
    GAUGE: int
    HISTOGRAM: int
    GAUGEHISTOGRAM: int
    SUMMARY: int
    INFO: int
    STATESET: int
    type: int
    metric_family_name: str
    help: str
    unit: str

class TimeSeries(_Message):
    labels: _RepeatedMessages[Label]
    samples: _RepeatedMessages[Sample]
    exemplars: _RepeatedMessages[Exemplar]
    histograms: _RepeatedMessages[Histogram]

class WriteRequest(_Message):
    timeseries: _RepeatedMessages[TimeSeries]
    metadata: _RepeatedMessages[MetricMetadata]

class FastTimeSeries(_Message):
    labels: _RepeatedScalars[bytes]
    samples: _RepeatedMessages[Sample]
    exemplars: _RepeatedScalars[bytes]
    histograms: _RepeatedScalars[bytes]

class FastWriteRequest(_Message):
    timeseries: _RepeatedMessages[FastTimeSeries]
    metadata: _RepeatedMessages[MetricMetadata]
