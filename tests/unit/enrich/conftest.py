from __future__ import annotations

import pytest

from monitor.enrich import Enricher
from monitor.settings import SUPPORTED_LANGUAGES


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    return Enricher.load(SUPPORTED_LANGUAGES)
