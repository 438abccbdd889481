"""Paths and the resource registry, including the Object 5 table checked against the OMA XML."""

from __future__ import annotations

import os
from pathlib import Path as FsPath

import pytest

from rig.lwm2m.codecs import CodecError, format_path, parse_path
from rig.lwm2m.resource_types import FIRMWARE_UPDATE_RESOURCES, ResourceRegistry, ResourceType, load_object_xml

# The OMA registry's object XMLs are not in the repo (they are OMA's): RIG_OMA_DIR names a copy (a checkout of
# OpenMobileAlliance/lwm2m-registry, or the files as 5-1_0.xml / 5-1_1.xml), else the project's shared folder.
# Without them these two tests skip saying so; tests/test_object5_doc.py checks the same table against
# docs/object5.md in every clone.
OMA_DIR = FsPath(os.environ.get("RIG_OMA_DIR") or FsPath(__file__).resolve().parents[2] / "shared" / "oma")
NO_XML = "the OMA object 5 XML is not here: set RIG_OMA_DIR to a folder with 5-1_0.xml and 5-1_1.xml"


@pytest.mark.parametrize(
    "text, path",
    [("/5/0/3", (5, 0, 3)), ("/", ()), ("", ()), ("/5", (5,)), ("5/0/", (5, 0)), ("/3/0/6/1", (3, 0, 6, 1)),
     ("/65535", (65535,))],
)
def test_parse_path(text, path):
    assert parse_path(text) == path


@pytest.mark.parametrize("text", ["/5/a", "/5//3", "/1/2/3/4/5", "/65536", "/-1", "/5/0/3 ", "/\u0663"])
def test_bad_paths_name_the_text(text):
    with pytest.raises(CodecError, match="path"):
        parse_path(text)


def test_format_path():
    assert format_path((5, 0, 3)) == "/5/0/3"
    assert format_path(()) == "/"
    with pytest.raises(CodecError):
        format_path((5, -1))


def test_registry_knows_object5_types_and_multiplicity():
    registry = ResourceRegistry()
    assert registry.type_of((5, 0, 3)) is ResourceType.INTEGER
    assert registry.type_of((5, 0, 0)) is ResourceType.OPAQUE
    assert registry.type_of((5, 0, 12)) is ResourceType.TIME
    assert registry.type_of((5, 0, 13)) is ResourceType.UNSIGNED
    assert registry.is_multiple((5, 0, 8)) is True
    assert registry.is_multiple((5, 0, 3)) is False
    assert registry.type_of((5, 0, 4)) is None  # resource 4 no longer exists
    assert registry.type_of((3, 0, 13)) is ResourceType.TIME
    assert registry.type_of((1, 0, 6)) is ResourceType.BOOLEAN
    assert registry.type_of((0, 0, 3)) is ResourceType.OPAQUE


@pytest.mark.skipif(not (OMA_DIR / "5-1_1.xml").exists(), reason=NO_XML)
def test_object5_table_matches_the_oma_xml():
    object_id, table = load_object_xml(OMA_DIR / "5-1_1.xml")
    assert object_id == 5
    assert dict(FIRMWARE_UPDATE_RESOURCES) == table


@pytest.mark.skipif(not (OMA_DIR / "5-1_0.xml").exists(), reason=NO_XML)
def test_object5_v1_0_types_agree_where_resources_exist():
    _, table = load_object_xml(OMA_DIR / "5-1_0.xml")
    for rid, definition in table.items():
        assert FIRMWARE_UPDATE_RESOURCES[rid].type is definition.type, rid


def test_load_object_xml_names_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<LWM2M><Object><ObjectID>x</ObjectID></Object></LWM2M>")
    with pytest.raises(CodecError, match="bad.xml"):
        load_object_xml(bad)
    with pytest.raises(CodecError, match="missing.xml"):
        load_object_xml(tmp_path / "missing.xml")
