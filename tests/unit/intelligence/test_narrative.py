"""What the model is sent (redacted, grounded) and what of its answer is kept (cited)."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrix.domain.intelligence.root_cause import Candidate
from orchestrix.services.incident_narrative import (
    check_citations,
    evidence_prompt,
    offline_narrative,
    redact,
)

AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_redaction_removes_contact_data_addresses_and_secrets():
    text = (
        "paged ada.lovelace@example.com from 10.0.3.17 and 2001:db8::1 via +44 20 7946 0958; "
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig token=s3cr3t-value "
        "key orx_abcdefghijklmnop AKIAABCDEFGHIJKLMNOP"
    )
    out = redact(text)
    for leaked in (
        "ada.lovelace",
        "10.0.3.17",
        "2001:db8",
        "7946",
        "eyJhbGci",
        "s3cr3t",
        "orx_abcdefghijklmnop",
        "AKIAABCDEFGHIJKLMNOP",
    ):
        assert leaked not in out
    assert "[email]" in out and "[ip]" in out


def test_prompt_holds_only_the_evidence_and_is_redacted():
    evidence = [
        {
            "id": "alr_1",
            "type": "error",
            "service": "api",
            "at": AT.isoformat(),
            "name": "errors from 192.168.1.9",
        }
    ]
    ranked = [Candidate("api", "alr_1", "error", 1.0, AT, ("alr_1",), "first error on api")]
    prompt = evidence_prompt("Checkout failing for bob@corp.example", evidence, ranked)
    assert f"alr_1 | error | api | {AT.isoformat()} |" in prompt  # times survive redaction
    assert "192.168.1.9" not in prompt and "bob@corp.example" not in prompt


def test_uncited_and_miscited_sentences_are_dropped_and_reported():
    answer = (
        "The payments deployment broke checkout [chg_1, alr_2].\n"
        "The database is probably fine.\n"
        "A DNS outage did it [alr_999]."
    )
    checked = check_citations(answer, {"chg_1", "alr_2"})
    assert [c["cites"] for c in checked.claims] == [["chg_1", "alr_2"]]
    assert checked.summary == "The payments deployment broke checkout [chg_1, alr_2]."
    reasons = {d["reason"] for d in checked.dropped}
    assert reasons == {"cites no evidence", "cites unknown ids alr_999"}


def test_offline_narrative_cites_every_sentence():
    ranked = [
        Candidate("db", "chg_1", "change", 2.5, AT, ("chg_1", "alr_1"), "deployment to db"),
        Candidate("api", "alr_2", "alert", 1.0, AT, ("alr_2",), "first alert on api"),
    ]
    narrative = offline_narrative("t", ranked)
    assert narrative.summary.startswith("Most likely cause: db")
    assert all(c["cites"] for c in narrative.claims)
    again = check_citations(narrative.summary, {"chg_1", "alr_1", "alr_2"})
    assert len(again.claims) == 2 and not again.dropped
