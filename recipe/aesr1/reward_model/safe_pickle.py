"""Reading the pickle bodies of Flow-GRPO-style reward clients without running anything they name.

``pickle.loads`` on bytes from the network runs code: a payload names any importable callable
(``os.system``, ``builtins.open``, ...) through the ``GLOBAL``/``STACK_GLOBAL``/``INST``/``EXT*``
opcodes and calls it with ``REDUCE``/``NEWOBJ``/``BUILD``. Every one of those paths asks the
unpickler's ``find_class`` (or ``persistent_load``) first, so an unpickler that refuses every global
and every persistent id can build nothing but what the opcodes make directly: ``dict``, ``list``,
``tuple``, ``set``, ``frozenset``, ``str``, ``bytes``, ``bytearray``, ``int``, ``float``, ``bool`` and
``None`` -- exactly what the protocol uses (``{"images": [bytes], "prompts": [str], "metadata": {}}``).
That needs pickle protocol 4 or 5 (Python 3.8+'s default, what Flow-GRPO and verl-omni send): protocols
0-2 write ``bytes`` through the global ``_codecs.encode``, 0-3 sets through ``builtins.set``, 0-4
``bytearray`` through ``builtins.bytearray``, and those are refused like any other global.

Memory and time stay bounded by the body size the service admits: every opcode is linear in its
bytes (Python refuses decimal ints above ``sys.get_int_max_str_digits()`` digits), and a structure
that references one object many times (memo ``GET``) costs no extra memory; the service only walks
the top-level fields it reads, never the whole structure.

>>> safe_loads(pickle.dumps({"images": [b"\\xff\\xd8"], "prompts": ["a cat"]}))
{'images': [b'\\xff\\xd8'], 'prompts': ['a cat']}
"""

from __future__ import annotations

import io
import pickle


class PickleRefused(ValueError):
    """The body is not a pickle of plain containers and scalars (a global, a persistent id, corrupt data)."""


class PlainDataUnpickler(pickle.Unpickler):
    """An ``Unpickler`` that refuses every global and persistent id: nothing is imported or called."""

    def find_class(self, module: str, name: str):  # noqa: D102 - the one door to code execution
        raise PickleRefused(f"pickle names the global {module}.{name}; only plain containers and scalars are accepted")

    def persistent_load(self, pid):  # noqa: D102
        raise PickleRefused("pickle uses a persistent id; only plain containers and scalars are accepted")


def safe_loads(data: bytes) -> object:
    """Unpickle ``data`` admitting only plain containers and scalars.

    Raises:
        PickleRefused: for any global or persistent id (nothing was executed) and for data that is not
            a complete, valid pickle (truncated, garbage, trailing junk is ignored as ``pickle.loads`` does).
    """
    try:
        return PlainDataUnpickler(io.BytesIO(data)).load()
    except PickleRefused:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError, MemoryError, RecursionError, UnicodeDecodeError) as error:
        # What the C unpickler raises for malformed opcode streams (a bad memo key, a short read, ...).
        raise PickleRefused(f"not a valid pickle: {type(error).__name__}: {error}") from None
