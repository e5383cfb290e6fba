"""The documentation in docs/: its example files import exactly as written, every setting is
documented, every link leads somewhere, and nothing points outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from config.settings import Settings
from tests.e2e.harness import ROOT

DOCS = ROOT / "docs"
EXAMPLES = DOCS / "exemples"
# Pages the index links to that other features write (security, web back office, representativeness).


def palabre(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(DATABASE_URL=database_url, DEFAULT_LOCALE="fr", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_example_file_imports_as_written(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'palabre.db'}"
    for args in (
        ("topics", "import", "thematiques.yaml"),
        ("neighbourhoods", "import", "quartiers.yaml"),
        ("categories", "import", "categories.yaml"),
        ("consultation", "import", "consultation.yaml"),
    ):
        done = palabre(url, *args[:-1], str(EXAMPLES / args[-1]))
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    listed = palabre(url, "consultation", "list")
    assert "place-du-marche" in listed.stdout
    results = palabre(url, "results", "place-du-marche")
    assert results.returncode == 0 and "Participation: 0 started, 0 finished." in results.stdout


def test_the_population_example_follows_its_documented_rules(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'palabre.db'}"
    assert palabre(url, "neighbourhoods", "import", str(EXAMPLES / "quartiers.yaml")).returncode == 0
    done = palabre(url, "population", "import", str(EXAMPLES / "population.yaml"))
    assert done.returncode == 0, (done.stdout, done.stderr)
    data = yaml.safe_load((EXAMPLES / "population.yaml").read_text(encoding="utf-8"))
    neighbourhoods = {
        n["code"] for n in yaml.safe_load((EXAMPLES / "quartiers.yaml").read_text(encoding="utf-8"))["neighbourhoods"]
    }
    assert set(data["neighbourhoods"]) == neighbourhoods
    assert set(data["age_brackets"]) == {"15-29", "30-44", "45-59", "60-74", "75-plus"}
    assert sum(data["neighbourhoods"].values()) == sum(data["age_brackets"].values())


def test_every_setting_is_documented_in_french_and_in_env_example() -> None:
    documented = (DOCS / "reglages.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = name.upper()
        assert f"`{variable}`" in documented, f"{variable} is missing from docs/reglages.md"
        assert re.search(rf"^#? ?{variable}=", example, re.MULTILINE), f"{variable} is missing from .env.example"


def test_links_between_documents_lead_somewhere_and_nothing_points_outside_the_repository() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "PRODUCT.md" not in text and "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not list {page.name}"
