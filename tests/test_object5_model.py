"""Object 5 vocabulary: ids and enums match the OMA XML, version differences, text helpers."""

from __future__ import annotations

import pytest

from rig.lwm2m.object5 import (
    DOWNLOAD_ERRORS,
    DeliveryMethod,
    Object5Error,
    ProtocolSupport,
    Resource,
    State,
    UpdateResult,
    describe,
    parse_object_version,
    path,
    protocol_for_uri,
    resources,
    update_results,
)


def test_resource_ids_match_the_xml() -> None:
    # 5-1_1.xml: 0..3, 5..13 (4 does not exist)
    assert sorted(int(r) for r in Resource) == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert Resource.LAST_STATE_CHANGE_TIME.label == "Last State Change Time"
    assert path(Resource.STATE) == "/5/0/3"


def test_state_and_result_values() -> None:
    assert [s.label for s in State] == ["Idle", "Downloading", "Downloaded", "Updating"]
    assert UpdateResult(7).label == "invalid URI"
    assert len(UpdateResult) == 12
    assert DOWNLOAD_ERRORS == {2, 3, 4, 5, 6, 7, 9}


def test_version_differences() -> None:
    assert Resource.CANCEL not in resources("1.0")
    assert Resource.CANCEL in resources("1.1")
    assert max(resources("1.0")) == Resource.DELIVERY_METHOD
    assert update_results("1.0") == set(range(10))
    assert update_results("1.1") == set(range(12))


def test_parse_object_version() -> None:
    assert parse_object_version(None) == "1.0"  # no ver attribute means 1.0
    assert parse_object_version("1.1") == "1.1"
    with pytest.raises(Object5Error, match=r"registration of ep1: Object 5 version '2.0'"):
        parse_object_version("2.0", "registration of ep1")


def test_describe() -> None:
    assert describe(1, 0) == "Downloading / 0 initial"
    assert describe(State.IDLE, UpdateResult.SUCCESS) == "Idle / 1 success"
    assert describe(None, 8) == "? / 8 update failed"
    assert describe(7, 42) == "state 7 (undefined) / 42 (undefined)"


def test_protocols_and_delivery() -> None:
    assert protocol_for_uri("coaps://h/fw") is ProtocolSupport.COAPS
    assert protocol_for_uri("coaps+tcp://h/fw") is ProtocolSupport.COAP_TLS
    assert protocol_for_uri("ftp://h/fw") is None
    assert DeliveryMethod.BOTH.allows(pull=True) and DeliveryMethod.BOTH.allows(pull=False)
    assert DeliveryMethod.PULL.allows(pull=True) and not DeliveryMethod.PULL.allows(pull=False)
    assert DeliveryMethod.PUSH.allows(pull=False) and not DeliveryMethod.PUSH.allows(pull=True)
