"""Object 5 conformance cases numbered as the LwM2M 1.0 enabler test cases, plus Cancel and resume (1.1).

The cases and their checks live here; rig.run.conformance runs them on a place.
"""

from rig.conformance.cases import CASES, select_cases
from rig.conformance.context import ConformanceCase, ConformanceContext

__all__ = ["CASES", "ConformanceCase", "ConformanceContext", "select_cases"]
