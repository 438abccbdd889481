"""Link format (40): tolerant parsing of registration bodies real clients send, and Discover output."""

from __future__ import annotations

import pytest

from rig.lwm2m.codecs import CodecError, Link, format_links, parse_links, parse_registration_links

# Wakaama tests/registration_tests.c (note the trailing space and quoted/unquoted ver).
WAKAAMA_WITH_RT = (b'</>;rt="oma.lwm2m";ct=110,</28180>;ver=0.4,</28152>;ver=0.2,'
                   b"</30000>;ver=0.1,</28181>;ver=0.2,</28183>;ver=0.1,"
                   b"</28182>;ver=0.2,</1>,</3>;ver=1.0,</4>;ver=1.2,</5>;ver=1.0 ")
WAKAAMA_WITHOUT_RT = WAKAAMA_WITH_RT.replace(b'rt="oma.lwm2m";', b"")
WAKAAMA_MESSAGE = b'</1/0>,</3/0>;ver="1.2"'


def test_wakaama_bodies():
    for body in (WAKAAMA_WITH_RT, WAKAAMA_WITHOUT_RT):
        reg = parse_registration_links(body)
        assert reg.root_path == "/"
        assert reg.content_formats == {110}
        assert reg.objects[5].version == "1.0" and reg.objects[4].version == "1.2"
        assert reg.objects[1].version is None and reg.objects[1].instances == set()
        assert set(reg.objects) == {28180, 28152, 30000, 28181, 28183, 28182, 1, 3, 4, 5}
    reg = parse_registration_links(WAKAAMA_MESSAGE)
    assert reg.objects[3].version == "1.2" and reg.objects[3].instances == {0}


def test_brief_example_and_anjay_style_body():
    reg = parse_registration_links(b'</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</5>;ver=1.1,</5/0>')
    assert reg.objects[5].version == "1.1" and reg.objects[5].instances == {0}
    assert reg.objects[1].instances == {0}
    reg = parse_registration_links(b'</>;rt="oma.lwm2m";ct="60 110 112 11542",\n</1>;ver=1.1,</1/1>,</5>;ver="1.1",</5/0>')
    assert reg.content_formats == {60, 110, 112, 11542}
    assert reg.objects[1].instances == {1}


def test_alternate_root_path():
    reg = parse_registration_links(b'</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/5/0>')
    assert reg.root_path == "/lwm2m"
    assert reg.objects[5].instances == {0}
    with pytest.raises(CodecError, match="not under the alternate root"):
        parse_registration_links(b'</lwm2m>;rt="oma.lwm2m",</1/0>')


def test_empty_body_registers_no_objects():
    assert parse_registration_links(b"").objects == {}


def test_generic_parsing_keeps_params_in_order():
    links = parse_links(b'</3/0/1>;dim=2;obs;title="a \\"q\\", b", </5/0> ; ct = 112 ,')
    assert links == [
        Link("/3/0/1", (("dim", "2"), ("obs", None), ("title", 'a "q", b'))),
        Link("/5/0", (("ct", "112"),)),
    ]
    assert links[0].get("dim") == "2" and links[0].has("obs") and links[0].get("obs") is None


@pytest.mark.parametrize(
    "body, message",
    [
        (b"</1/0", "without '>'"),
        (b"1/0", "expected '<'"),
        (b'</1/0>;ver="1.1', "unterminated"),
        (b"</1/0> </3/0>", "expected ',' or ';'"),
        (b"</1/0>;=1", "bad parameter name"),
        (b"</5>;ver=one", "not 'major.minor'"),
        (b"</5/0/1>", "only objects and object instances"),
        (b"</5/x>", "not an object or instance id"),
        (b"</5/70000>", "not an object or instance id"),
        (b'</>;ct="110 x"', "not a list of content formats"),
        (b"</1/0>\xff", "not UTF-8"),
    ],
)
def test_malformed_registration_bodies(body, message):
    with pytest.raises(CodecError, match=message):
        parse_registration_links(body)


def test_format_links_round_trips_and_quotes_only_when_needed():
    links = [Link("/5/0", (("ver", "1.1"),)), Link("/5/0/3", (("pmin", "0"), ("obs", None))),
             Link("/5/0/1", (("title", "a b"),))]
    text = format_links(links)
    assert text == b'</5/0>;ver=1.1,</5/0/3>;pmin=0;obs,</5/0/1>;title="a b"'
    assert parse_links(text) == links
    with pytest.raises(CodecError):
        format_links([Link("/a>b")])
