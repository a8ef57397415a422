"""What the gate says about one clip: each measure, its threshold, pass/fail, and a sentence in plain words."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Measure(BaseModel):
    name: str  # identity | colour | text | drift | flicker | black | frozen | face
    passed: bool | None  # None: not applicable to this clip (the reason is in `sentence`)
    value: float | None = None
    threshold: str = ""
    sentence: str = ""
    detail: dict[str, float | int | str | None] = Field(default_factory=dict)


class QaReport(BaseModel):
    clip: str
    reference: str
    duration_s: float
    frames_sampled: int
    seconds: float = 0.0  # what the check itself cost
    measures: list[Measure] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(m.passed is not False for m in self.measures)

    @property
    def flags(self) -> list[str]:
        return [m.name for m in self.measures if m.passed is False]

    @property
    def score(self) -> float:
        """Share of the applicable measures that passed (1.0: all of them)."""
        applicable = [m for m in self.measures if m.passed is not None]
        return round(sum(bool(m.passed) for m in applicable) / len(applicable), 3) if applicable else 1.0

    @property
    def reasons(self) -> list[str]:
        return [m.sentence for m in self.measures if m.passed is False]

    def summary(self) -> dict[str, object]:
        return {"passed": self.passed, "qa_score": self.score, "qa_flags": self.flags, "reasons": self.reasons,
                **self.model_dump(mode="json")}
