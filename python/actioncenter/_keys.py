"""Signing keys for audit checkpoints."""

from __future__ import annotations

from typing import Tuple

from . import _native

__all__ = ["generate_key"]


def generate_key() -> Tuple[str, str]:
    """A fresh Ed25519 key pair for :meth:`ActionCenter.checkpoint`, as
    ``(private_pem, public_pem)``: the private key in PKCS#8 PEM, the public
    key in SPKI PEM (the formats ``openssl genpkey -algorithm ed25519`` and
    ``actionctl audit keygen`` write). Keep the private key outside the
    database; give the public one to whoever verifies::

        private_pem, public_pem = generate_key()
        center.checkpoint(admin, private_pem)
        assert center.verify_audit(public_key=public_pem).intact
    """
    return _native.generate_key()
