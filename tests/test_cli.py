"""The ``banshi`` command as a newcomer uses it: import, index, search, evaluate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BANSHI = [sys.executable, "-m", "banshi.cli"]


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "BANSHI_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **env}
    environment.pop("DATABASE_URL", None)
    return subprocess.run([*BANSHI, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    rows = [
        {
            "external_id": "unemp",
            "name": "失业保险金申领",
            "department": "防城港市人力资源和社会保障局",
            "aliases": ["领失业金"],
            "materials": [{"name": "社会保障卡"}],
        },
        {
            "external_id": "biz",
            "name": "个体工商户设立登记",
            "department": "防城港市市场监督管理局",
            "aliases": ["办营业执照"],
            "materials": [{"name": "经营者身份证"}],
        },
        {
            "external_id": "marry",
            "name": "内地居民结婚登记",
            "department": "防城港市民政局",
            "materials": [{"name": "居民户口簿"}],
        },
        {"external_id": "bad", "name": "", "department": "防城港市民政局"},
    ]
    path = tmp_path / "catalogue.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_import_index_search_and_eval(tmp_path, catalogue):
    data = tmp_path / "var"
    imported = run(["import", str(catalogue)], data)
    assert imported.returncode == 0, imported.stderr
    assert "新增 3" in imported.stdout and "出错 1" in imported.stdout
    assert "catalogue.jsonl 第4行 字段 name" in imported.stderr

    assert run(["index"], data).returncode == 0
    assert (data / "index" / "manifest.json").exists()

    searched = run(["search", "营业执照怎么办", "--k", "2", "--json"], data)
    assert searched.returncode == 0, searched.stderr
    hits = json.loads(searched.stdout)
    assert hits[0]["external_id"] == "biz" and set(hits[0]) == {"external_id", "name", "department", "score"}
    assert len(hits) == 2

    queries = tmp_path / "q.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {"query": "失业了能领钱吗", "gold": ["unemp"]},
                {"query": "我要结婚去哪登记", "gold": ["marry"]},
                {"query": "今天天气怎么样", "gold": []},
            ]
        ),
        encoding="utf-8",
    )
    evaluated = run(["eval", "retrieval", "--queries", str(queries), "--json"], data)
    assert evaluated.returncode == 0, evaluated.stderr
    figures = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert set(figures) == {"recall@1", "recall@5", "recall@10", "mrr@10", "ood_rejected"}
    assert figures["recall@1"] == 1.0 and figures["ood_rejected"] == 1.0


def test_two_catalogues_live_side_by_side(tmp_path, catalogue):
    first, second = tmp_path / "one", tmp_path / "two"
    assert run(["import", str(catalogue)], first).returncode == 0
    assert json.loads(run(["search", "结婚", "--json"], first).stdout)[0]["external_id"] == "marry"
    assert json.loads(run(["search", "结婚", "--json"], second).stdout) == []


def test_bad_input_gets_a_clear_error(tmp_path):
    missing = run(["import", str(tmp_path / "nope.jsonl")], tmp_path / "var")
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
    broken = tmp_path / "q.jsonl"
    broken.write_text('{"gold": []}\n', encoding="utf-8")
    evaluated = run(["eval", "retrieval", "--queries", str(broken)], tmp_path / "var")
    assert evaluated.returncode == 2 and "第1行" in evaluated.stderr
