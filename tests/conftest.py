"""Test configuration: float64 everywhere, no automatic sequence-form cache (each test builds
what it uses; tests/efg/test_cache.py turns it on in a temporary folder), and a --runslow switch
for the long tests."""

import os

import jax
import pytest

jax.config.update("jax_enable_x64", True)
os.environ["GAMETHEORY_CACHE"] = "off"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test, run with --runslow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow; run with --runslow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="module")
def _drop_compiled_programs():
    """Free each test module's compiled XLA programs when it ends. The whole suite compiles
    thousands of programs in one process; each keeps its machine code mapped, and near the
    kernel's limit of memory mappings (vm.max_map_count, 65530) LLVM's next allocation fails
    and the process dies in the middle of a compilation."""
    yield
    jax.clear_caches()
