"""The catalogue tests' shared set-up reads the script once and every zh_CN message."""

from __future__ import annotations

from catalogue_files import update_catalogue_script, zh_catalogue


def test_the_update_script_is_imported_once() -> None:
    script = update_catalogue_script()
    assert script is update_catalogue_script()
    assert callable(script.raise_site_wordings)


def test_the_zh_catalogue_reads_with_translations_and_comments() -> None:
    messages = {m.msgid: m for m in zh_catalogue()}
    assert "" not in messages  # the header is not a message
    never_overwritten = messages["Choose another path; keys are never overwritten."]
    assert never_overwritten.text.strip()
    assert never_overwritten.fuzzy is False
    assert any(m.comments for m in messages.values())
