"""What an anomaly rule asks for: the algorithm, how wide the band is, which seasonality."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Algorithm = Literal["basic", "agile", "robust"]
Seasonality = Literal["auto", "none", "hourly", "daily", "weekly"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
SEASONALITIES: tuple[str, ...] = get_args(Seasonality)
MIN_BOUNDS, MAX_BOUNDS = 2.0, 4.0
PERIOD_S = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}


@dataclass(frozen=True)
class AnomalySpec:
    """`basic`: no seasonality, follows the recent level (fast, for series without a cycle);
    `agile`: seasonal, follows level shifts within about an hour;
    `robust`: seasonal, slow to adapt, so a lasting shift stays anomalous for longer.
    `bounds`: the band's half-width in standard deviations of the model's residual."""

    algorithm: Algorithm = "agile"
    bounds: float = 3.0
    seasonality: Seasonality = "auto"

    def as_dict(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "bounds": self.bounds, "seasonality": self.seasonality}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnomalySpec:
        return cls(
            algorithm=d.get("algorithm", "agile"),
            bounds=float(d.get("bounds", 3.0)),
            seasonality=d.get("seasonality", "auto"),
        )

    def periods(self) -> tuple[str, ...]:
        """The seasonal periods the model keeps a profile for ('none' is always kept)."""
        if self.algorithm == "basic" or self.seasonality == "none":
            return ()
        if self.seasonality == "auto":
            return ("daily",)
        return (self.seasonality,)
