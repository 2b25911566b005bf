#!/usr/bin/env python3
"""Reference points of the unscrambled Sobol sequence, for tests/test_sobol.c.

Run with Debian's Python (it sees python3-scipy):
    /usr/bin/python3 tests/reference/make_sobol_reference.py > tests/fixtures/sobol_reference.json

scipy.stats.qmc.Sobol(d=21, scramble=False): Joe and Kuo's direction numbers,
Gray-code order, point 0 the origin; 256 points, every value a multiple of
2^-32, so exact in JSON.
"""
import json
import sys
import warnings

import scipy
from scipy.stats import qmc

warnings.simplefilter("ignore")  # scipy warns when n is not a power of two; 256 is
points = qmc.Sobol(d=21, scramble=False).random(256)
json.dump({"generator": "tests/reference/make_sobol_reference.py", "scipy_version": scipy.__version__,
           "points": points.tolist()}, sys.stdout)
sys.stdout.write("\n")
