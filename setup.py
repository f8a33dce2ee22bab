"""Only the C extension lives here; everything else is in pyproject.toml.

``broker.protocol._record_scan`` checks every produced record at C speed
(broker/protocol/record_scan.py). It is optional: where it cannot be compiled (no C
compiler or Python headers), the install still succeeds and the broker uses the
pure-Python scan, which says so in its start-up log.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "broker.protocol._record_scan",
            ["broker/protocol/_record_scan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
