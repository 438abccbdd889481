"""Packages of the wheel: every package under rig/, and the top-level targets/ folder as rig.targets.

targets/ stays where users know it (and copy from); the wheel carries the same files
inside the rig package so `rig run` finds them after `pip install` (rig.target_files,
through importlib.resources). The rest of the metadata is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["rig", "rig.*"], exclude=["*.__pycache__"]) + ["rig.targets"],
    package_dir={"rig.targets": "targets"},
    package_data={"rig.targets": ["*.toml", "README.md"]},
)
