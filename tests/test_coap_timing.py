"""CoAP transmission parameters from a target file (RFC 7252 4.8): the rig's waits and the virtual client's timers.

The rig waits for "connection lost" (result 4) as long as a correct client may
take: EXCHANGE_LIFETIME plus a margin, 247 s with the RFC's defaults. The virtual
board declares short parameters and its client (computing them on its own, as the
device must not share code with the checker) gives up within them.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from rig.config import load_target
from rig.errors import RigError
from rig.lwm2m.transmission import CoapTiming
from rig.sim.coap_timers import exchange_lifetime

TARGETS = Path(__file__).resolve().parents[1] / "targets"


def test_rfc_defaults_give_the_rfcs_derived_times():
    timing = CoapTiming.from_target({}, "none")
    assert (timing.max_transmit_span, timing.max_transmit_wait, timing.exchange_lifetime) == (45.0, 93.0, 247.0)
    assert timing.connection_lost_wait == pytest.approx(247.0 * 1.25)


def test_the_virtual_board_declares_short_parameters_and_its_client_agrees():
    data = load_target(TARGETS / "virtual.toml").data
    timing = CoapTiming.from_target(data, "virtual.toml")
    assert timing.exchange_lifetime == 4.0 and timing.connection_lost_wait == 9.0
    assert exchange_lifetime(data) == timing.exchange_lifetime
    assert exchange_lifetime(load_target(TARGETS / "frdm_k64f.toml").data) == 247.0  # a real board: the defaults


def test_the_rig_and_the_virtual_client_compute_the_same_lifetime_independently():
    rng = random.Random(7)
    for _ in range(200):
        table = {"ack_timeout": rng.uniform(0.1, 5), "ack_random_factor": rng.uniform(1, 2),
                 "max_retransmit": rng.randint(0, 8), "max_latency": rng.uniform(0.1, 200)}
        if rng.random() < 0.5:
            table["processing_delay"] = rng.uniform(0.1, 5)
        data = {"coap": table}
        assert exchange_lifetime(data) == pytest.approx(CoapTiming.from_target(data, "t").exchange_lifetime)


@pytest.mark.parametrize("table, words", [
    ({"ack_timout": 2}, "coap.ack_timout: unknown key"),
    ({"ack_timeout": 0}, "coap.ack_timeout: must be a number of seconds > 0"),
    ({"max_retransmit": 2.5}, "coap.max_retransmit: must be a whole number"),
    ({"ack_random_factor": 0.5}, "coap.ack_random_factor: must be 1.0 or more"),
])
def test_a_bad_coap_table_is_one_line_naming_file_and_key(tmp_path, table, words):
    text = (TARGETS / "virtual.toml").read_text()
    without = re.sub(r"\[coap\].*?(?=\[boot\])", "", text, flags=re.S)  # the board's own table out, the bad one in
    target = tmp_path / "t.toml"
    target.write_text(without + "\n[coap]\n" + "\n".join(f"{k} = {v}" for k, v in table.items()) + "\n")
    with pytest.raises(RigError, match=words):
        load_target(target)
