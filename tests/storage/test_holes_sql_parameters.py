"""Issue 13: a failed statement never shows its parameters (often what a resident typed), in the error or in the logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from config.logs import QUIET_LIBRARIES, SILENT_LIBRARIES, setup_logging

SECRET_TEXT = "Mme Lheureux au 3 rue des Lilas"


async def test_failed_statement_hides_its_parameters(engine: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in QUIET_LIBRARIES + SILENT_LIBRARIES})
    setup_logging("DEBUG")  # as `palabre run` does with LOG_LEVEL=DEBUG
    root.addHandler(caplog.handler)
    try:
        with pytest.raises(DBAPIError) as caught:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": SECRET_TEXT})
        logging.getLogger("sqlalchemy.engine").error("failed: %s", caught.value)  # as a caller logging the error would
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    assert SECRET_TEXT not in str(caught.value) and "hidden" in str(caught.value)
    assert "failed:" in caplog.text and SECRET_TEXT not in caplog.text
