"""`duta run` as an operator starts it: console mode, polls until SIGTERM, exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.store import Store
from tests.sites import SeedSites
from tests.test_cli_poll import write_sources


def test_run_polls_prints_alerts_and_stops_cleanly_on_sigterm(
    tmp_path: Path, seed_sites: SeedSites
) -> None:
    database = f"sqlite:///{tmp_path / 'data' / 'duta.db'}"
    env = {
        **os.environ,
        "DUTA_SOURCES": str(write_sources(tmp_path / "sources.yaml", seed_sites.sources())),
        "DUTA_DATABASE_URL": database,
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",
        "DUTA_HOST_DELAY_S": "0",
        "DUTA_EXTRACT_WORKERS": "1",
        "TELEGRAM_BOT_TOKEN": "",
    }
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as service:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < len(expected):
            time.sleep(0.5)
            assert service.poll() is None, service.stderr.read() if service.stderr else ""
            if (tmp_path / "data" / "duta.db").exists():
                with Store.open(database) as store:
                    stored = store.count_articles()
        service.send_signal(signal.SIGTERM)
        out, err = service.communicate(timeout=40)
    assert service.returncode == 0, err
    assert stored == len(expected)
    assert "set TELEGRAM_BOT_TOKEN" in err
    for article in expected:  # console alerts: relevant articles only
        assert (article.url in out) is article.relevant, article.url
