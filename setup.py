"""The one compiled part: the tar reader's fast path (see modernize/snapshot/_tarscan.c).

Optional: where no C compiler or Python headers are found, the install goes on
and the pure-Python parser does the same work, slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "modernize.snapshot._tarscan",
            ["modernize/snapshot/_tarscan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
