"""The faults an org is under: its fault profile (how publishes lock) and the toxics on its API."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from mockgc.faults import MAX_MS, FaultProfile, Toxic
from mockgc.platform.domain.context import OrgContext, operation
from mockgc.platform.domain.errors import NotFound


@dataclass(frozen=True, slots=True)
class ToxicEffect:
    toxic: Toxic
    delay: float = 0.0


class Faults:
    def __init__(self, ctx: OrgContext, profile: FaultProfile) -> None:
        self.ctx = ctx
        self.profile = profile
        self.toxics: dict[str, Toxic] = {t.name: t for t in profile.toxics}
        self._rng = random.Random(f"toxics:{ctx.settings.seed}")

    @operation
    def roll(self, path: str) -> ToxicEffect | None:
        """Pick the first matching toxic that fires; the HTTP layer carries out its effect."""
        for toxic in self.toxics.values():
            if path.startswith(toxic.path_prefix) and self._rng.random() < toxic.toxicity:
                delay = self._latency(toxic) if toxic.type == "latency" else 0.0
                return ToxicEffect(toxic, delay)
        return None

    def _latency(self, toxic: Toxic) -> float:
        """Seconds of delay: latency_ms spread by jitter_ms (uniform, normal) or by sigma (lognormal)."""
        attributes, rng = toxic.attributes, self._rng
        latency, jitter = float(attributes.get("latency_ms", 0)), float(attributes.get("jitter_ms", 0))
        distribution = attributes.get("distribution", "uniform")
        if distribution == "normal":
            ms = rng.gauss(latency, jitter)
        elif distribution == "lognormal":
            # latency_ms is the median; a heavy right tail, as real service latency has.
            ms = latency * math.exp(rng.gauss(0.0, float(attributes.get("sigma", 0.5))))
        else:
            ms = latency + rng.uniform(-jitter, jitter)
        return min(max(0.0, ms), MAX_MS) / 1000

    @operation
    def set_toxic(self, toxic: Toxic) -> None:
        self.toxics[toxic.name] = toxic

    @operation
    def remove_toxic(self, name: str) -> None:
        if self.toxics.pop(name, None) is None:
            raise NotFound(f"toxic {name} not found")

    @operation
    def set_profile(self, profile: FaultProfile) -> None:
        """Applies to publishes that start from now on; running ones keep the holds they computed."""
        self.profile = profile
        self.toxics = {t.name: t for t in profile.toxics}
