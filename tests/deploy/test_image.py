"""The container image's build steps, replayed here in a temporary virtualenv, give a working bot.

No container engine runs on the test machines, so the Dockerfile's RUN steps of its build stage
are run as written (the image's /opt/palabre becomes a temporary folder), then the installed
`palabre run` — not the checkout — starts against the fake Bot API, migrates an empty database,
answers /healthz and speaks French from the catalogs compiled into the package.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import ROOT, free_port, onboard
from tests.e2e.patience import patient

DOCKERFILE = ROOT / "Dockerfile"


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.endswith("\\"):
            lines.append(current.strip())
            current = ""
    result: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


def test_the_image_runs_as_a_user_and_starts_by_migrating_and_serving() -> None:
    build, final = stages()
    assert build[0].endswith(" AS build")
    assert any(line.startswith("COPY --from=build /opt/palabre ") for line in final)
    assert "USER palabre" in final and any(line.startswith("HEALTHCHECK ") and "/healthz" in line for line in final)
    assert final[-1] == 'CMD ["palabre", "run"]'  # `palabre run` migrates first, then serves
    copied = {name for line in build if line.startswith("COPY ") for name in line.split()[1:-1]}
    packages = {"config", "notices", "bot", "handlers", "participation", "storage", "scheduler", "web", "locales", "setup.py"}
    assert packages <= copied


async def test_the_build_steps_give_a_palabre_that_migrates_serves_health_and_speaks_french(tmp_path: Path) -> None:
    build, _final = stages()
    source, venv, workdir = tmp_path / "src", tmp_path / "opt-palabre", tmp_path / "data"
    source.mkdir()
    workdir.mkdir()
    for line in build:  # COPY exactly what the image copies, nothing else of the checkout
        if line.startswith("COPY "):
            *names, _target = line.split()[1:]
            for name in names:
                origin = ROOT / name
                if origin.is_dir():
                    shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
                else:
                    shutil.copy2(origin, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for line in build:
        if not line.startswith("RUN "):
            continue
        command = line[4:].replace("/opt/palabre", str(venv)).replace("python -m venv", f"{sys.executable} -m venv")
        if " install " in command:
            # The dependencies come from this test environment (below): the step installs Palabre itself.
            command += " --no-deps"
        subprocess.run(shlex.split(command), cwd=source, env=env, check=True, capture_output=True, timeout=patient(600))
    # Palabre's dependencies, from the environment running the tests, after the venv's own packages.
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "palabre-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = site / "notices" / "locales" / "fr" / "LC_MESSAGES" / "messages.mo"
    assert installed.is_file(), "the package must carry its compiled French catalog"

    async with FakeTelegram() as fake:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            str(venv / "bin" / "palabre"),
            "run",
            cwd=workdir,
            env={
                **env,
                "BOT_TOKEN": fake.token,
                "TELEGRAM_API_URL": fake.base_url,
                "HTTP_PORT": str(port),
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'palabre.db'}",
                "MEDIA_DIR": str(workdir / "media"),
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            health = await healthy(port, process)
            assert health == 200
            await fake.wait_request("getUpdates", timeout=60)
            camille = fake.user(4242, "Camille")
            welcome = await onboard(camille)  # French all the way: the catalogs of the package
            assert "C’est parti" in welcome["text"]
        finally:
            process.terminate()
            _out, err = await process.communicate()
        assert process.returncode == 0, err.decode()[-2000:]
    assert (workdir / "palabre.db").is_file()
    assert not (source / "palabre.db").exists()


async def healthy(port: int, process: asyncio.subprocess.Process) -> int:
    """GET /healthz once the server answers (the status it gives)."""
    deadline = asyncio.get_running_loop().time() + patient(60)
    async with httpx.AsyncClient() as client:
        while True:
            if process.returncode is not None:
                raise AssertionError("palabre run exited before serving /healthz")
            try:
                response = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if response.status_code == 200 or asyncio.get_running_loop().time() > deadline:
                    return response.status_code
            except httpx.TransportError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(0.1)


def test_compose_runs_two_web_processes_a_worker_postgresql_and_redis_with_health_checks() -> None:
    import yaml
    from click.testing import CliRunner

    from bot.cli import main

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    commands = {name: service.get("command") for name, service in services.items()}
    assert [name for name, command in commands.items() if command == ["palabre", "run", "--role", "web"]] == ["web-1", "web-2"]
    assert commands["worker"] == ["palabre", "run", "--role", "worker"]
    assert commands["migrate"] == ["palabre", "db", "upgrade"]
    for name in ("web-1", "web-2", "worker"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://") and service["environment"]["REDIS_URL"]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert service["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # The commands compose runs are the CLI's own.
    help_text = CliRunner().invoke(main, ["run", "--help"]).output
    assert "web" in help_text and "worker" in help_text
    assert CliRunner().invoke(main, ["db", "upgrade", "--help"]).exit_code == 0
