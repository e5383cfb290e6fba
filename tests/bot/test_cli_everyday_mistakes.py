"""Issue 13: each everyday mistake of an operator is one sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.bot.test_cli import palabre
from tests.e2e.fake_telegram import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore")
DATA = Path(__file__).parent.parent / "data"
VALID_LOOKING_TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"

# (what the operator did, arguments, settings, the sentence expected on standard error)
MISTAKES = [
    (
        "results into a folder that does not exist",
        ["results", "place-du-marche", "--format", "csv", "--output", "{missing}/r.csv"],
        {},
        "Cannot use {missing}/r.csv: No such file or directory; check that its folder exists and can be written.",
    ),
    (
        "reports export into a folder that does not exist",
        ["reports", "export", "--format", "csv", "--output", "{missing}/r.csv"],
        {},
        "Could not write {missing}/r.csv: No such file or directory.",
    ),
    (
        "db backup into a folder that does not exist",
        ["db", "backup", "{missing}/b.db"],
        {},
        "The folder {missing} does not exist: create it first, or choose another one.",
    ),
    (
        "an unreachable PostgreSQL",
        ["db", "upgrade"],
        {"DATABASE_URL": "postgresql+asyncpg://palabre:hunter2@127.0.0.1:1/palabre"},
        "Cannot connect to the database postgresql+asyncpg://palabre:***@127.0.0.1:1/palabre: the connection was refused "
        "(is the server running, on this host and port?).",
    ),
    (
        "an unsupported DATABASE_URL scheme",
        ["db", "upgrade"],
        {"DATABASE_URL": "mysql://palabre@db/palabre"},
        "Invalid setting DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (the drivers Palabre supports).",
    ),
    (
        "a DATABASE_URL without the async driver",
        ["db", "upgrade"],
        {"DATABASE_URL": "sqlite:///palabre.db"},
        "Invalid setting DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (the drivers Palabre supports).",
    ),
    (
        "a rule across settings",
        ["db", "upgrade"],
        {"WEBHOOK_URL": "https://palabre.example.fr/hook"},
        "Invalid settings: WEBHOOK_SECRET must be set with WEBHOOK_URL: 16 to 256 characters of letters, digits, _ or -.",
    ),
    (
        "an impossible date in a consultation file",
        ["consultation", "import", "{bad_date}"],
        {},
        "{bad_date}: opens_at: expected a date and time such as 2026-12-01T08:00:00+01:00",
    ),
    (
        "no network to the Bot API at start",
        ["run"],
        {"BOT_TOKEN": VALID_LOOKING_TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:1"},
        "Cannot reach the Telegram Bot API at http://127.0.0.1:1: check the network (and TELEGRAM_API_URL), then start Palabre again.",
    ),
]


@pytest.mark.parametrize(("what", "args", "env", "sentence"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_everyday_mistake_is_one_sentence(tmp_path: Path, what: str, args: list[str], env: dict[str, str], sentence: str) -> None:
    bad_date = tmp_path / "bad-date.yaml"
    bad_date.write_text(
        (DATA / "consultation_marche.yaml").read_text().replace("opens_at: 2026-", "opens_at: 2026-13-01T08:00:00+01:00 #")
    )
    assert palabre("consultation", "import", str(DATA / "consultation_marche.yaml"), cwd=tmp_path).returncode == 0
    names = {"missing": str(tmp_path / "no-such-folder"), "bad_date": str(bad_date)}
    result = palabre(*[arg.format(**names) for arg in args], cwd=tmp_path, env={"LOG_LEVEL": "WARNING", **env})
    assert result.returncode != 0, what
    assert "Traceback" not in result.stderr and "Error" not in result.stderr.replace("error", ""), result.stderr
    assert sentence.format(**names) in result.stderr.splitlines(), result.stderr
    if what == "an unreachable PostgreSQL":
        assert "hunter2" not in result.stderr


async def test_a_well_formed_but_refused_token_is_one_sentence(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
        environment.update(
            {
                "BOT_TOKEN": VALID_LOOKING_TOKEN,
                "TELEGRAM_API_URL": fake.base_url,
                "LOG_LEVEL": "WARNING",
                "HTTP_PORT": "0",
                "PYTHONPATH": os.getcwd(),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(process.communicate(), 120)
    stderr = err.decode()
    assert process.returncode != 0 and "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        "Telegram refused BOT_TOKEN: copy the token again from @BotFather (it may have been revoked)."
    ]
