"""The detector on its own: the corpus, the default flows, the account's internal-address
option, and that it never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.default_content import default_flow_documents
from sessions import redaction
from tests.sessions.redaction_corpus import CLEAN, SECRET_BEARING


def test_the_corpus_is_big_enough_and_covers_every_kind_and_both_flavours():
    assert len(SECRET_BEARING) >= 60 and len(CLEAN) >= 60
    covered = {case.kind for case in SECRET_BEARING}
    secret_kinds = set(redaction.KINDS) - redaction.INTERNAL_KINDS
    assert secret_kinds - covered == set()
    flavours = {case.flavour for case in SECRET_BEARING}
    assert {"windows", "linux"} <= flavours


@pytest.mark.parametrize("case", SECRET_BEARING, ids=lambda c: c.text[:40])
def test_every_secret_in_the_corpus_is_redacted(case):
    findings = redaction.find(case.text)
    redacted = redaction.redact(case.text, findings)

    for secret in case.secrets:
        assert secret not in redacted
    assert findings[0].kind == case.kind
    assert f"[REDACTED:{case.kind}]" in redacted


@pytest.mark.parametrize("text", CLEAN, ids=lambda t: t[:40])
def test_clean_notes_have_no_findings(text):
    assert redaction.find(text) == []
    assert redaction.redact(text) == text


def test_ordinary_words_around_passwords_are_not_findings():
    for text in ["password reset", "the password policy", "Password: reset", "password is expired"]:
        assert redaction.find(text) == [], text


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_default_flows_text_and_commands_have_no_findings():
    documents = default_flow_documents()
    found = [
        (document["key"], text[f.start : f.end], f.kind)
        for document in documents
        for text in _strings(document)
        for f in redaction.find(text)
    ]
    assert found == []


def test_only_the_secret_is_replaced_and_the_label_stays():
    text = "Server=sql01;Database=crm;User Id=app;Password=CrmApp#2024;Encrypt=True"
    assert redaction.redact(text) == (
        "Server=sql01;Database=crm;User Id=app;Password=[REDACTED:connection-string];Encrypt=True"
    )


def test_internal_addresses_macs_and_emails_only_when_asked():
    text = (
        "DC01 10.0.0.10/24 gateway 192.168.1.1, public 8.8.8.8, link fe80::1ff:fe23:4567:890a, "
        "ULA fd12:3456:789a::1, MAC 00-1A-2B-3C-4D-5E and 001a.2b3c.4d5e, "
        "mail jane.doe@contoso.com, "
        "version 2.9.8884.27471 at 10:41:07"
    )
    assert redaction.find(text) == []

    found = {(text[f.start : f.end], f.kind) for f in redaction.find(text, internal=True)}

    assert found == {
        ("10.0.0.10/24", "ipv4"),
        ("192.168.1.1", "ipv4"),
        ("fe80::1ff:fe23:4567:890a", "ipv6"),
        ("fd12:3456:789a::1", "ipv6"),
        ("00-1A-2B-3C-4D-5E", "mac"),
        ("001a.2b3c.4d5e", "mac"),
        ("jane.doe@contoso.com", "email"),
    }


def test_a_long_text_finds_each_secret_of_the_corpus_in_place():
    """One ~90 kB text (timings are in `make bench`, not here)."""
    text = "\n".join([*CLEAN, *(case.text for case in SECRET_BEARING)] * 4)
    redacted = redaction.redact(text, redaction.find(text, internal=True))
    for case in SECRET_BEARING:
        for secret in case.secrets:
            assert secret not in redacted


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_findings_inside_it_and_never_raises(text):
    findings = redaction.find(text, internal=True)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:], strict=False))
    redaction.redact(text, findings)
