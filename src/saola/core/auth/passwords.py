"""Password hashing with Argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8

# Hash of a random password, verified against when the user is unknown so that
# timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("no-such-user-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str) -> str | None:
    """Why ``password`` is too weak, or ``None``."""
    if len(password) < MIN_LENGTH:
        return f"Password must have at least {MIN_LENGTH} characters"
    if password.isdigit():
        return "Password cannot be only digits"
    return None
