"""Schemathesis against the OpenAPI schema, in process (ASGI, no network): no 5xx, every response
matches the schema, and schema-invalid requests are rejected, for every operation.

Schema-valid requests may still be refused with 422 (a well-formed FEN string that is not a legal
position, an unknown level), so the ``positive_data_acceptance`` check is off; an invalid request
may be refused with 413 when it is too large (the 1 MB body limit).

Hypothesis drives each operation directly (``APIOperation.as_strategy``) rather than through the
schemathesis pytest plugin, whose lazy fixture loader does not work with this pytest version.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from server import create_app

EXAMPLES = 25
CONFIG = """
[checks.positive_data_acceptance]
enabled = false

[checks.negative_data_rejection]
expected-statuses = [400, 404, 405, 409, 413, 415, 422]
"""


@pytest.fixture(scope="module")
def api_schema(shipped_policy, tmp_path_factory):
    """The app's schema, served by the app itself with the real shipped model."""
    db = tmp_path_factory.mktemp("schema-db") / "games.db"
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(shipped_policy, f"sqlite:///{db}"),
                                          config=SchemathesisConfig.from_str(CONFIG))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_matches_schema(api_schema, mode):
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()

        try:
            check()
        except Unsatisfiable:  # no parameters or body: nothing invalid to send
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as e:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {e}")
    assert not failures, "\n\n".join(failures)
