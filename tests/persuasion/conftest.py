"""Fixtures of the persuasion tests."""

import pytest
from persuasion_problems import judge_problem


@pytest.fixture()
def judge():
    return judge_problem()
