"""The live-load soak (bench/soak.py) for a minute across the shop's midnight: Saleor's
own tables taking orders in two currencies, with late commits, cancels, edits and deleted
variants, while `orderreport daily` runs every few seconds, two at once now and then, and
is killed with SIGTERM or SIGKILL at random moments.

What must hold: every daily process exits with a documented code (or the signal it was
killed with), the run log agrees with every exit code, the restate window verifies clean
and agrees with a hand-written computation of Saleor's rule, and the shop never waits on
orderreport's locks.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from bench import soak
from orderreport.config.settings import DEFAULT_RESTATE
from tests.conftest import url_text


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_minute_of_live_load_across_midnight(server_url: URL) -> None:
    result = soak.run(
        url_text(server_url),
        duration=60,
        writers=3,
        rate=30,
        every=4,
        pairs=0.3,
        kills=0.3,
        history_per_day=500,
    )
    detail = result.markdown()
    assert result.midnight_inside, detail
    assert result.daily, detail
    assert not result.undocumented, detail
    assert not result.runlog_disagreements, detail
    assert not result.restated_wrong, detail
    assert result.final_daily.code == 0, detail
    assert result.window is not None, detail
    assert (result.window[1] - result.window[0]).days == DEFAULT_RESTATE - 1, detail
    assert result.verify_window.code == 0, detail
    assert result.verify_window_rows == [], detail
    assert result.hand_rows and not result.hand_mismatches, detail
    assert result.lock_samples > 0 and not result.lock_waits, detail
    assert result.ok, detail
