"""``--load-in-4bit``, ``--load-in-8bit`` and ``--quantization METHOD[:BITS]``: the quantization request a
script says with ``from_pretrained(..., load_in_4bit=True)``, said on the command line.

The request is the one a framework file makes (``LoraSpec.quantization_request``), so it is described,
checked against the checkpoint's own ``quantization_config`` and modelled by ``--memory`` the same way;
it wins over the file's. Methods are transformers' quantizers (``CONFIG_CLASSES``), by the name
``quantization_config.quant_method`` gives them; a name transformers does not have is a usage error here,
not a LA034 finding, because it is a typo on the command line, not a file lora-audit cannot read.
"""

from __future__ import annotations

from typing import Any

from lora_audit.errors import AuditError
from lora_audit.measure.quantization.backends import CONFIG_CLASSES
from lora_audit.naming import did_you_mean

#: The spellings people use for bitsandbytes (LLaMA-Factory's quantization_method: bnb).
ALIASES = {"bnb": "bitsandbytes", "qlora": "bitsandbytes"}


def from_flags(load_in_4bit: bool | None, load_in_8bit: bool | None, quantization: str | None) -> dict[str, Any] | None:
    """The quantization request the flags make, or None; a contradiction or an unknown method is an error."""
    given = [flag for flag, on in (("--load-in-4bit", load_in_4bit), ("--load-in-8bit", load_in_8bit),
                                   ("--quantization", quantization is not None)) if on]
    if len(given) > 1:
        raise AuditError("usage", f"{' and '.join(given)} both say how the base is quantized", "give one of them")
    if load_in_4bit:
        return {"method": "bitsandbytes", "bits": 4, "source": "--load-in-4bit"}
    if load_in_8bit:
        return {"method": "bitsandbytes", "bits": 8, "source": "--load-in-8bit"}
    if quantization is None:
        return None
    return _parse(quantization)


def _parse(text: str) -> dict[str, Any]:
    flag = f"--quantization {text}"
    name, _, bits_text = text.strip().partition(":")
    method = ALIASES.get(name.lower(), name.lower())
    if method not in CONFIG_CLASSES:
        known = sorted(CONFIG_CLASSES)
        close = did_you_mean(name.lower(), [*known, *ALIASES])
        raise AuditError("usage", f"{flag}: {name!r} is not a quantization method transformers has"
                         + (f" (did you mean {close[0]}?)" if close else ""),
                         "use one of " + ", ".join(known) + ", with :BITS where it has several (bitsandbytes:4)")
    bits: int | None = None
    if bits_text:
        if not bits_text.isdigit() or not 1 <= int(bits_text) <= 16:
            raise AuditError("usage", f"{flag}: {bits_text!r} is not a number of bits",
                             "give METHOD:BITS, e.g. bitsandbytes:4 or hqq:4")
        bits = int(bits_text)
    if method == "bitsandbytes" and bits not in (4, 8):
        raise AuditError("usage", f"{flag}: bitsandbytes quantizes to 4 or 8 bits",
                         "use bitsandbytes:4 (QLoRA) or bitsandbytes:8, or --load-in-4bit / --load-in-8bit")
    request: dict[str, Any] = {"method": method, "source": flag}
    if bits is not None:
        request["bits"] = bits
    return request
