"""Password hashing with Argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8

_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (the test suite uses argon2's cheapest profile to run faster)."""
    global _hasher
    _hasher = hasher
    _dummy_hash.cache_clear()


@cache
def _dummy_hash() -> str:
    # Verified against when the user is unknown, so timing does not reveal which usernames exist.
    return _hasher.hash("no-such-user-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str) -> str | None:
    """Why ``password`` is too weak, or ``None``."""
    if len(password) < MIN_LENGTH:
        return "Password must have at least 8 characters"
    if password.isdigit():
        return "Password cannot be only digits"
    return None
