"""SpacyGazetteer inside .venv-rasa: trained, persisted, loaded and run on messages, without training DIET."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from nlu.gazetteer import build_gazetteer
from tests.conftest import ROOT

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason=".venv-rasa is missing")

# A matter no training example mentions: only the gazetteer can know it.
UNSEEN_NAME, UNSEEN_ALIAS = "渔业船舶登记证书核发", "办渔船证"

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.spacy_gazetteer import SpacyGazetteer

gazetteer, texts = sys.argv[1], json.loads(sys.argv[2])
config = {**SpacyGazetteer.get_default_config(), "gazetteer": gazetteer}
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
resource = Resource("spacy_gazetteer")
context = ExecutionContext(GraphSchema({}), "test")
SpacyGazetteer.create(config, storage, resource, context).train(TrainingData())
Path(gazetteer).unlink()  # the trained model must not need the export any more
component = SpacyGazetteer.load(config, storage, resource, context)
messages = [Message(data={"text": t}) for t in texts]
diet_guess = {"entity": "ticket_no", "start": 2, "end": 13, "value": "x", "extractor": "DIETClassifier"}
diet_address = {"entity": "address", "start": 0, "end": 2, "value": "我的", "extractor": "DIETClassifier"}
messages[-1].set("entities", [diet_guess, diet_address])
component.process(messages)
print(json.dumps([m.get("entities", []) for m in messages], ensure_ascii=False))
"""

TEXTS = [
    f"请问{UNSEEN_NAME}在哪里办",
    f"我想{UNSEEN_ALIAS}，要带什么",
    "第一次办身份证要多久",
    "港口区的内地居民结婚登记收费吗",
    "查一下工单12345-20261123-0007",
    "身份证号45060219900101123x，电话+86 138 7701 2345",
    "手机13877012345帮我查下进度",
]


def _training_texts() -> str:
    files = [*(ROOT / "nlu" / "data").glob("*.yml"), ROOT / "nlu" / "generated" / "catalogue_examples.yml"]
    return "".join(path.read_text(encoding="utf-8") for path in files if path.exists())


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[list[dict]]:
    from knowledge.schema import MatterIn

    assert UNSEEN_NAME not in _training_texts() and UNSEEN_ALIAS not in _training_texts()
    matters = [
        MatterIn(
            external_id="bs-sfz-sc",
            name="居民身份证首次申领",
            aliases=["第一次办身份证"],
            department="防城港市公安局",
            province="广西壮族自治区",
            city="防城港市",
        ),
        MatterIn(
            external_id="bs-hy-jh",
            name="内地居民结婚登记",
            aliases=["领结婚证"],
            department="防城港市港口区民政局",
            city="防城港市",
            county="港口区",
        ),
        MatterIn(external_id="x-ych", name=UNSEEN_NAME, aliases=[UNSEEN_ALIAS], department="防城港市海洋局"),
    ]
    path = tmp_path_factory.mktemp("gaz") / "gazetteer.json"
    path.write_text(json.dumps(build_gazetteer(matters), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT, str(path), json.dumps(TEXTS, ensure_ascii=False)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _found(entities: list[dict], entity: str) -> list[str]:
    return [e["value"] for e in entities if e["entity"] == entity]


def test_unseen_matter_by_name_and_alias(extracted):
    assert _found(extracted[0], "matter") == [UNSEEN_NAME]
    assert _found(extracted[1], "matter") == [UNSEEN_NAME]
    first = extracted[0][0]
    assert first["extractor"] == "SpacyGazetteer" and first["confidence_entity"] == 1.0
    assert TEXTS[0][first["start"] : first["end"]] == UNSEEN_NAME


def test_alias_maps_to_canonical_name_and_region(extracted):
    assert _found(extracted[2], "matter") == ["居民身份证首次申领"]
    assert _found(extracted[3], "region") == ["港口区"]
    assert _found(extracted[3], "matter") == ["内地居民结婚登记"]


def test_number_patterns(extracted):
    assert _found(extracted[4], "ticket_no") == ["12345-20261123-0007"]
    assert _found(extracted[5], "id_number") == ["45060219900101123X"]
    assert _found(extracted[5], "phone") == ["13877012345"]


def test_keeps_other_extractors_but_overrides_wrong_type(extracted):
    last = extracted[-1]
    assert _found(last, "phone") == ["13877012345"]
    assert _found(last, "ticket_no") == []  # DIET's guess over the phone number is dropped
    assert _found(last, "address") == ["我的"]  # an entity type we do not own is kept


def test_fingerprint_follows_the_gazetteer_file(tmp_path: Path):
    script = (
        "import sys; from nlu.spacy_gazetteer import SpacyGazetteer as S; "
        "print(S.fingerprint_addon({'gazetteer': sys.argv[1]}))"
    )
    path = tmp_path / "g.json"

    def fingerprint() -> str:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(
            [str(RASA_PYTHON), "-c", script, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    path.write_text('{"matters": []}', encoding="utf-8")
    before = fingerprint()
    path.write_text('{"matters": [{"name": "新事项", "aliases": []}]}', encoding="utf-8")
    assert fingerprint() != before
