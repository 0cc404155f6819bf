"""The one place personal data passes through: canonical emails, keyed hashes and sealed fields.

Names and emails are encrypted with AES-256-GCM before they reach the database, so a dump alone
reveals no signer. `DATA_KEYS` is a comma-separated list of base64 keys, newest first: new data is
sealed with the first, and every listed key can still open what it sealed (rotation). Each sealed
value starts with a 4-byte key id, then the 12-byte nonce, then ciphertext and tag.

Email canonical form, used only for deduplication: the whole address lower-cased, the domain in IDNA
(ASCII) form, and anything after a `+` in the local part removed (`Ana+news@Example.ORG` ->
`ana@example.org`). Dots are kept: only some providers ignore them.
"""

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from petition.models import Signature

_NONCE_BYTES = 12


def _decode_key(text: str) -> bytes:
    key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(key) != 32:
        raise ValueError("each DATA_KEYS entry must be 32 bytes, base64-encoded")
    return key


@cache
def _keyring(spec: str) -> tuple[tuple[bytes, AESGCM], ...]:
    keys = [_decode_key(part) for part in spec.split(",") if part.strip()]
    if not keys:
        raise ValueError("DATA_KEYS holds no key")
    return tuple((hashlib.sha256(key).digest()[:4], AESGCM(key)) for key in keys)


def seal(plain: str) -> bytes:
    key_id, cipher = _keyring(current_app.config["DATA_KEYS"])[0]
    nonce = os.urandom(_NONCE_BYTES)
    return key_id + nonce + cipher.encrypt(nonce, plain.encode("utf-8"), key_id)


def unseal(sealed: bytes) -> str:
    sealed = bytes(sealed)
    key_id, nonce, body = sealed[:4], sealed[4 : 4 + _NONCE_BYTES], sealed[4 + _NONCE_BYTES :]
    for candidate_id, cipher in _keyring(current_app.config["DATA_KEYS"]):
        if hmac.compare_digest(candidate_id, key_id):
            return cipher.decrypt(nonce, body, key_id).decode("utf-8")
    raise LookupError("no key in DATA_KEYS opens this value")


def sealed_with_current_key(sealed: bytes) -> bool:
    return bytes(sealed)[:4] == _keyring(current_app.config["DATA_KEYS"])[0][0]


SEALED_COLUMNS = ("email_sealed", "first_name_sealed", "last_name_sealed")


def reseal_all(session: Session, batch_size: int = 1000) -> int:
    """Re-encrypt every sealed field not yet under the newest key; returns how many rows changed.

    Each row is rewritten only if it still holds what was read, so a signer updating a pending
    signature meanwhile keeps their new details. Safe to stop and run again."""
    changed, last_id = 0, 0
    columns = [getattr(Signature, name) for name in SEALED_COLUMNS]
    while True:
        rows = session.execute(
            select(Signature.id, *columns).where(Signature.id > last_id).order_by(Signature.id).limit(batch_size)
        ).all()
        if not rows:
            return changed
        for row in rows:
            old = dict(zip(SEALED_COLUMNS, row[1:], strict=True))
            if all(sealed_with_current_key(value) for value in old.values()):
                continue
            new = {name: seal(unseal(value)) for name, value in old.items()}
            conditions = [column == old[column.key] for column in columns]
            result = session.execute(
                update(Signature)
                .where(Signature.id == row.id, *conditions)
                .values(**new)
                .execution_options(synchronize_session=False)
            )
            changed += result.rowcount
        session.commit()
        last_id = rows[-1].id


def canonical_email(local_part: str, ascii_domain: str) -> str:
    local = local_part.split("+", 1)[0]
    return f"{local}@{ascii_domain}".lower()


def _keyed_hash(purpose: str, value: str) -> str:
    key = current_app.config["HASH_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def email_hash(petition_id: int, canonical: str) -> str:
    """Keyed per petition, so the same person's signatures cannot be linked across petitions."""
    return _keyed_hash(f"email:{petition_id}", canonical)


def domain_hash(petition_id: int, ascii_domain: str) -> str:
    """The email's domain, keyed per petition like `email_hash`: lets organisers act on one domain
    while a dump alone does not tell which (possibly personal) domains people signed from."""
    return _keyed_hash(f"domain:{petition_id}", ascii_domain.strip().lower())[:32]


def details_digest(petition_id: int, first_name: str, last_name: str, country: str, keep_informed: bool) -> str:
    """Names what a signer submitted, so that a confirmation link confirms exactly those details."""
    details = "\x00".join([first_name, last_name, country, "1" if keep_informed else "0"])
    return _keyed_hash(f"details:{petition_id}", details)[:16]


def domain_of(canonical: str) -> str:
    return canonical.rpartition("@")[2]


def ip_hash(ip: str | None) -> str | None:
    """Truncated keyed hash: enough to see many signatures came from one address, not to recover it."""
    if not ip:
        return None
    return _keyed_hash("ip", ip)[:16]


def login_key(email: str) -> str:
    """Names an account in the login throttle whether or not it exists, without storing the address."""
    return _keyed_hash("login", email.strip().lower())[:32]
