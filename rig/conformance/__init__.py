"""Object 5 conformance cases numbered as the LwM2M 1.0 enabler test cases, plus Cancel and resume (1.1)."""

from rig.conformance.cases import CASES
from rig.conformance.context import ConformanceCase, ConformanceContext
from rig.conformance.runner import run_conformance, select_cases

__all__ = ["CASES", "ConformanceCase", "ConformanceContext", "run_conformance", "select_cases"]
