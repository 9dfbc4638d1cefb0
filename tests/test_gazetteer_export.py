"""`banshi nlu export`: the catalogue becomes a gazetteer, a jieba dictionary and training examples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from nlu.gazetteer import build_examples, export_matters, export_published
from tests.conftest import SAMPLE_CATALOGUE


def _import_sample(session) -> None:
    from knowledge.importers import import_path

    import_path(session, SAMPLE_CATALOGUE, author="test", publish=True)


def test_export_from_sample_db_writes_all_files(data_dir, session, tmp_path: Path):
    _import_sample(session)
    session.commit()
    out = tmp_path / "generated"
    report = export_published(out)

    gazetteer = json.loads((out / "gazetteer.json").read_text(encoding="utf-8"))
    by_name = {m["name"]: m for m in gazetteer["matters"]}
    assert "第一次办身份证" in by_name["居民身份证首次申领"]["aliases"]
    assert by_name["居民身份证首次申领"]["external_id"] == "bs-sfz-sc"
    assert {"广西壮族自治区", "防城港市", "港口区", "东兴市", "上思县", "防城区"} <= set(gazetteer["regions"])
    assert "防城港市公安局" in gazetteer["departments"]
    assert report.matters == len(gazetteer["matters"]) == 75

    userdict = (out / "jieba" / "userdict.txt").read_text(encoding="utf-8").splitlines()
    words = {line.split(" ")[0] for line in userdict}
    assert {"居民身份证首次申领", "第一次办身份证", "港口区", "防城港市公安局"} <= words
    assert all(len(line.split(" ")) == 3 for line in userdict)
    assert "办身份证要带什么" not in words  # question-like aliases would swallow the facet words

    examples = yaml.safe_load((out / "catalogue_examples.yml").read_text(encoding="utf-8"))
    intents = {block["intent"] for block in examples["nlu"]}
    assert {"ask_guide", "ask_materials", "ask_location", "ask_fee", "ask_online", "ask_visits"} <= intents
    text = (out / "catalogue_examples.yml").read_text(encoding="utf-8")
    assert '"entity": "matter", "value": "' in text  # aliases carry the canonical name
    assert report.examples <= 400


def test_export_rewrites_only_changed_files(data_dir, session, tmp_path: Path):
    from knowledge.schema import MatterIn
    from knowledge.store import published

    _import_sample(session)
    matters = published(session)
    out = tmp_path / "generated"
    export_matters(matters, out)
    paths = [out / "gazetteer.json", out / "jieba" / "userdict.txt", out / "catalogue_examples.yml"]
    for path in paths:
        os.utime(path, (1_000_000, 1_000_000))

    again = export_matters(matters, out)
    assert again.written == [] and len(again.unchanged) == 3
    assert all(path.stat().st_mtime == 1_000_000 for path in paths)

    extra = MatterIn(external_id="x-new", name="渔船登记证书核发", aliases=["办渔船证"], department="防城港市海洋局")
    changed = export_matters([*matters, extra], out)
    assert out / "gazetteer.json" in changed.written
    assert "办渔船证" in (out / "jieba" / "userdict.txt").read_text(encoding="utf-8")


def test_examples_are_deterministic_and_capped(data_dir, session):
    from knowledge.store import published

    _import_sample(session)
    matters = published(session)
    first, second = build_examples(matters, limit=80), build_examples(matters, limit=80)
    assert first == second
    assert sum(len(lines) for lines in first.values()) <= 80
