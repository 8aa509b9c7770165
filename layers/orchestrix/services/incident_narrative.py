"""Writing an incident's analysis: grounded, cited, redacted — by a model or offline.

The model sees only the evidence collected for the incident (its alerts, the alerts and
changes around it, the ranked candidates), after redaction, and must end every sentence with
the ids it rests on. Each sentence of the answer is checked: one citing no id, or an id that
is not in the evidence, is dropped and reported, never shown as a finding. When no model is
configured, the budget is spent, or the model fails, the offline writer states the same
ranking in fixed sentences — the same evidence always gives the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from orchestrix.domain.intelligence.root_cause import Candidate

SYSTEM_PROMPT = (
    "You are an incident analyst. Use ONLY the evidence listed by the user; do not use outside "
    "knowledge or guess. Write at most 6 short sentences, one per line, saying what most likely "
    "caused the incident and why. End EVERY sentence with the ids of the evidence it rests on "
    "in square brackets, e.g. [alr_01, chg_02]. Never invent ids. If the evidence is not "
    "enough to say, say so and cite what you looked at."
)

# What must not leave the stage: contact data, addresses and anything secret-shaped.
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (re.compile(r"\borx_[A-Za-z0-9_\-]{8,}"), "[api-key]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "[aws-key]"),
    (
        re.compile(r"(?i)\b(bearer|token|password|passwd|secret|api[_-]?key)\b([\s:=\"']+)\S+"),
        r"\1\2[secret]",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "[ip]"),
    # IPv6: full, or compressed with "::" (times like 09:00:00 are neither).
    (re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])"), "[ip]"),
    (
        re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:)+:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?"),
        "[ip]",
    ),
    # Phone numbers in international form (a bare digit run may be a date or a count).
    (re.compile(r"\+\d[\d ()-]{7,}\d"), "[phone]"),
    (re.compile(r"\b[A-Fa-f0-9]{32,}\b|\b[A-Za-z0-9+/]{40,}={0,2}"), "[secret]"),
)
_CITATION = re.compile(r"\[([^\[\]]+)\]")


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class Narrative:
    summary: str
    claims: list[dict[str, Any]]  # [{"text", "cites"}]
    dropped: list[dict[str, Any]] = field(default_factory=list)  # [{"text", "reason"}]


def evidence_prompt(title: str, evidence: list[dict[str, Any]], ranked: list[Candidate]) -> str:
    """The user turn: the incident and its evidence, one line per item, redacted."""
    lines = [f"Incident: {title}", "", "Evidence (id | type | service | time | what):"]
    for item in evidence:
        lines.append(
            f"{item['id']} | {item['type']} | {item.get('service') or '-'} | {item['at']} | "
            f"{item.get('name', '')}"
        )
    lines += ["", "Ranked candidate causes (most likely first):"]
    for rank, c in enumerate(ranked, 1):
        cites = ", ".join(c.evidence_ids)
        lines.append(f"{rank}. {c.service} ({c.kind}, score {c.score:.2f}): {c.reason} [{cites}]")
    return redact("\n".join(lines))


def check_citations(answer: str, known: set[str]) -> Narrative:
    """Keep the sentences that cite evidence, and only evidence; report the others."""
    claims: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for sentence in _sentences(answer):
        cited = [i.strip() for group in _CITATION.findall(sentence) for i in group.split(",")]
        cited = [i for i in cited if i]
        unknown = [i for i in cited if i not in known]
        if not cited:
            dropped.append({"text": sentence, "reason": "cites no evidence"})
        elif unknown:
            dropped.append({"text": sentence, "reason": "cites unknown ids " + ", ".join(unknown)})
        else:
            claims.append({"text": sentence, "cites": list(dict.fromkeys(cited))})
    return Narrative(" ".join(c["text"] for c in claims), claims, dropped)


def _sentences(answer: str) -> list[str]:
    parts: list[str] = []
    for line in answer.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        # A sentence ends after its citation: "... [alr_1]. Next ..." splits there.
        parts += [p.strip() for p in re.split(r"(?<=\])\s*[.;]?\s+(?=[A-Z])", line) if p.strip()]
    return parts


def offline_narrative(title: str, ranked: list[Candidate]) -> Narrative:
    """The deterministic analysis: the ranking, in words, each sentence cited."""
    if not ranked:
        return Narrative("No alert or change around this incident points to a cause yet.", [])
    claims: list[dict[str, Any]] = []
    for position, c in enumerate(ranked[:3]):
        lead = "Most likely cause" if position == 0 else "Also possible"
        cites = ", ".join(c.evidence_ids)
        claims.append(
            {"text": f"{lead}: {c.service} — {c.reason} [{cites}].", "cites": list(c.evidence_ids)}
        )
    return Narrative(" ".join(c["text"] for c in claims), claims)
