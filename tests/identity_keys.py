"""The fixed keys the tests use, so fixtures and the web app under test agree.

Synthetic pupils only: these keys protect nothing real, and no real school could use them
(the pseudonym key is not random and the identity key is a counting sequence).
"""

from __future__ import annotations

from empowered.keys import Keys, encode_identity_key

TEST_SECRET = "test-pseudonym-key"
TEST_IDENTITY_KEY = bytes(range(32))
TEST_KEYS = Keys(TEST_SECRET, "test-session-secret", (TEST_IDENTITY_KEY,))


def key_file_contents() -> dict[str, object]:
    return {
        "pseudonym_key": TEST_SECRET,
        "session_secret": "test-session-secret",
        "identity_key": encode_identity_key(TEST_IDENTITY_KEY),
        "retired_identity_keys": [],
    }
