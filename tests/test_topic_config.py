"""topics.toml: a good file read into topics; every bad file, key or value refused in one line
naming the file, the key and what is wrong; the shipped defaults load through Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.settings import load_settings, packaged_defaults
from tracker.topic_config import read_topics
from tracker.topics import DEFAULT_FIELDS, Field, Term, TopicNames

NAMES = 'names = { en = "Hate crimes", ko = "증오 범죄", es = "Delitos de odio" }\n'
GOOD = f"""
[topics.hate-crimes]
{NAMES}description = "Bias-motivated crimes."
terms = ["hate crime", {{ phrase = "bias crime", variants = ["bias-motivated  crime"] }}]

[topics.drivers-licenses]
names = {{ en = "Driver's licenses", ko = "운전면허", es = "Licencias de conducir" }}
description = "Licenses regardless of status."
fields = ["title", "summary"]
jurisdictions = ["va", "ny"]
requires = ["driver"]
excludes = ["commercial driver's license"]

[[topics.drivers-licenses.terms]]
phrase = "driver privilege card"

[[topics.drivers-licenses.terms]]
phrase = "driver's license"
requires = ["legal presence"]
excludes = ["unpaid fines"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file(tmp_path: Path) -> None:
    crimes, licenses = read_topics(write(tmp_path, GOOD))
    assert crimes.id == "hate-crimes"
    assert crimes.names == TopicNames(en="Hate crimes", ko="증오 범죄", es="Delitos de odio")
    assert crimes.terms == (
        Term("hate crime"), Term("bias crime", variants=("bias-motivated crime",)),
    )
    assert (crimes.fields, crimes.jurisdictions) == (DEFAULT_FIELDS, ())
    assert licenses.fields == (Field.TITLE, Field.SUMMARY)
    assert licenses.jurisdictions == ("va", "ny")
    assert (licenses.requires, licenses.excludes) == (("driver",), ("commercial driver's license",))
    assert licenses.terms[1] == Term(
        "driver's license", requires=("legal presence",), excludes=("unpaid fines",)
    )


def test_an_empty_file_has_no_topics(tmp_path: Path) -> None:
    assert read_topics(write(tmp_path, "# nothing yet\n")) == ()


TOPIC = f'[topics.t]\n{NAMES}description = "d"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[topics.t\n", "not valid TOML"),
        ("[topic.t]\n", "topic: unknown table (expected [topics.<id>])"),
        ("topics = 3\n", "topics must be a table of [topics.<id>] tables"),
        ("[topics.Hate_Crimes]\n", "topics.Hate_Crimes: a topic id is lower-case words joined"),
        ("[topics." + "a" * 65 + "]\n", "at most 64 characters"),
        ("[topics]\nt = 1\n", "topics.t: must be a table, not 1"),
        (TOPIC + 'terms = ["x"]\nexclude = ["y"]\n',
         "topics.t.exclude: unknown key (known keys: description, excludes, fields"),
        ('[topics.t]\ndescription = "d"\nterms = ["x"]\n',
         "topics.t.names: is missing (every topic needs names in en, ko and es)"),
        ('[topics.t]\nnames = { en = "A", es = "B" }\ndescription = "d"\nterms = ["x"]\n',
         "topics.t.names.ko: is missing (every topic needs names in en, ko and es)"),
        ('[topics.t]\nnames = { en = "A", ko = "", es = "B" }\ndescription = "d"\n'
         'terms = ["x"]\n', "topics.t.names.ko: must be a non-empty string"),
        ('[topics.t]\nnames = { en = "A", ko = "가", es = "B", zh = "C" }\ndescription = "d"\n'
         'terms = ["x"]\n', "topics.t.names.zh: unknown key (known keys: en, es, ko)"),
        (f'[topics.t]\n{NAMES}terms = ["x"]\n', "topics.t.description: is missing"),
        (TOPIC, "topics.t.terms: must be a non-empty list of phrases or term tables"),
        (TOPIC + "terms = []\n", "topics.t.terms: must be a non-empty list"),
        (TOPIC + 'terms = ["hate crime", "de*port"]\n',
         "topics.t.terms[1]: 'de*port': '*' may only end a word"),
        (TOPIC + "terms = [{ variants = [\"x\"] }]\n", "topics.t.terms[0].phrase: is missing"),
        (TOPIC + 'terms = [{ phrase = "x", variant = ["y"] }]\n',
         "topics.t.terms[0].variant: unknown key (known keys: excludes, phrase, requires"),
        (TOPIC + 'terms = [{ phrase = "x", requires = "y" }]\n',
         "topics.t.terms[0].requires: must be a list of non-empty strings, not 'y'"),
        (TOPIC + 'terms = [{ phrase = "x", excludes = ["a;b"] }]\n',
         "topics.t.terms[0].excludes: 'a;b' is not a phrase"),
        (TOPIC + 'terms = [3]\n', "topics.t.terms[0]: must be a table, not 3"),
        (TOPIC + 'terms = ["x"]\nfields = ["title", "body"]\n',
         "topics.t.fields: unknown field 'body' (known: title, summary, subjects, actions)"),
        (TOPIC + 'terms = ["x"]\nfields = []\n', "topics.t.fields: must name at least one"),
        (TOPIC + 'terms = ["x"]\nfields = ["title", "title"]\n', "names a field twice"),
        (TOPIC + 'terms = ["x"]\njurisdictions = ["VA"]\n',
         "topics.t.jurisdictions: 'VA' is not a jurisdiction (two lower-case letters)"),
        (TOPIC + 'terms = ["x"]\nrequires = ["ok", ""]\n',
         "topics.t.requires: must be a list of non-empty strings"),
    ],
)
def test_bad_files_are_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        read_topics(path)
    error = str(refused.value)
    assert error.startswith(f"{path}: ")
    assert message in error
    assert "\n" not in error


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"topics.toml: file not found"):
        read_topics(tmp_path / "topics.toml")


def test_settings_load_the_shipped_topics_when_the_config_folder_has_none(
    tmp_path: Path,
) -> None:
    settings = load_settings({"TRACKER_CONFIG": str(tmp_path)})
    assert [t.id for t in settings.topics] == [
        "language-access", "drivers-licenses", "asian-american-history",
        "citizenship-immigration", "immigration-enforcement", "hate-crimes",
    ]
    assert settings.topics == read_topics(packaged_defaults() / "topics.toml")
    for topic in settings.topics:
        assert all((topic.names.en, topic.names.ko, topic.names.es, topic.description))


def test_settings_read_the_config_folders_topics_and_refuse_a_bad_one(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    settings = load_settings({"TRACKER_CONFIG": str(tmp_path)})
    assert [t.id for t in settings.topics] == ["hate-crimes", "drivers-licenses"]
    write(tmp_path, TOPIC + 'terms = ["x"]\nfields = ["body"]\n')
    with pytest.raises(ConfigError, match=r"topics.toml: topics.t.fields: unknown field"):
        load_settings({"TRACKER_CONFIG": str(tmp_path)})
