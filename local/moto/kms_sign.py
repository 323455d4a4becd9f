"""KMS Sign for moto (5.2.5) as AWS answers it: `MessageType` honoured, and its limits enforced.

moto signs every message as RAW whatever `MessageType` says (a DIGEST is hashed a second time,
so the signature verifies against nothing), and it accepts a RAW message of any size. AWS
(https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html):

- `Message`: "Length Constraints: Minimum length of 1. Maximum length of 4096." — a RAW message
  over 4,096 bytes is a ValidationException;
- `MessageType` DIGEST: the message is the digest itself, signed without hashing again; its
  length must be the algorithm's digest length (32 bytes for a *_SHA_256 algorithm), else a
  ValidationException ("Digest is invalid length for algorithm ...").

The tool key (shared/adapters/kms/src/signer.rs) signs the SHA-256 digest of a JWT's signing
input, because a deep-linking response naming many videos is longer than 4,096 bytes: without
this patch the local stack would neither refuse the RAW call that fails in AWS nor verify the
DIGEST call that works there.

Loaded by the `vivid-moto-server` launcher that scripts/venv.sh writes; the rest of moto is
untouched.
"""

import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.kms.exceptions import ValidationException
from moto.kms.responses import KmsResponse

MAX_RAW = 4096
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}

_moto_sign = KmsResponse.sign


def _digest_sign(self: KmsResponse, key_id: str, message: bytes, algorithm: str) -> str:
    key = self.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY" or algorithm not in key.signing_algorithms:
        # moto's own checks and messages for a wrong key or algorithm.
        return _moto_sign(self)
    hash_cls = HASHES[algorithm.rsplit("_", 1)[1]]
    if len(message) != hash_cls.digest_size:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    private = key.private_key.private_key
    prehashed = Prehashed(hash_cls())
    if algorithm.startswith("RSASSA_PSS"):
        pad = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.MAX_LENGTH)
        signature = private.sign(message, pad, prehashed)
    elif algorithm.startswith("RSASSA_PKCS1"):
        signature = private.sign(message, padding.PKCS1v15(), prehashed)
    else:
        signature = private.sign(message, ec.ECDSA(prehashed))
    return json.dumps(
        {"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm}
    )


def sign(self: KmsResponse) -> str:
    message = self._get_param("Message")
    if isinstance(message, str):
        message = message.encode("utf-8")
    message_type = self._get_param("MessageType") or "RAW"
    if message_type == "RAW" and message is not None and len(message) > MAX_RAW:
        raise ValidationException(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_RAW}"
        )
    if message_type == "DIGEST" and message:
        self._validate_key_id(self._get_param("KeyId"))
        return _digest_sign(self, self._get_param("KeyId"), message, self._get_param("SigningAlgorithm") or "")
    return _moto_sign(self)


KmsResponse.sign = sign  # type: ignore[method-assign]
