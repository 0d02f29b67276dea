"""Stopping an update by signal: the first SIGINT or SIGTERM asks for a stop after the batch in
progress (the stream test shows that batch committed), a second stops at once."""

from __future__ import annotations

import os
import signal
import time

import pytest

from energy_anomaly.commands.update import stop_on_signals


def signalled(number: int) -> None:
    os.kill(os.getpid(), number)
    time.sleep(0.05)  # the handler runs in the main thread at its next instruction


@pytest.mark.parametrize(
    ("number", "at_once"), [(signal.SIGTERM, SystemExit), (signal.SIGINT, KeyboardInterrupt)], ids=["TERM", "INT"]
)
def test_the_first_signal_asks_for_a_stop_and_a_second_stops_at_once(number, at_once, capsys):
    before = signal.getsignal(number)
    with pytest.raises(at_once) as raised:
        with stop_on_signals() as stop:
            assert not stop.is_set()
            signalled(number)
            assert stop.is_set()
            assert "stopping after the batch in progress" in capsys.readouterr().out
            signalled(number)
    if at_once is SystemExit:
        assert raised.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(number) is before


def test_handlers_are_restored_after_an_update():
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with stop_on_signals() as stop:
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert not stop.is_set()
    assert {number: signal.getsignal(number) for number in before} == before
