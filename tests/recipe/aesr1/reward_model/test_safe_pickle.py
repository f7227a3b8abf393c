"""The restricted unpickler: plain containers and scalars in, every global refused before anything runs."""

import os
import pickle
import pickletools

import pytest

from recipe.aesr1.reward_model.safe_pickle import PickleRefused, safe_loads


class _Touch:
    """Unpickling this with ``pickle.loads`` creates ``path``: the classic remote-code payload."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


class _Mkdir:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


PLAIN = {"images": [b"\xff\xd8\xff", b"png"], "prompts": ["a cat", None], "metadata": {"k": (1, 2.5, True)},
         "set": {1, 2}, "frozen": frozenset({"x"}), "big": 2**100}


@pytest.mark.parametrize("protocol", [4, 5])  # 4: Python 3.8+'s default, what Flow-GRPO and verl-omni send
def test_plain_containers_and_scalars_round_trip(protocol):
    assert safe_loads(pickle.dumps(PLAIN, protocol=protocol)) == PLAIN


def test_bytearray_needs_protocol_5():
    assert safe_loads(pickle.dumps([bytearray(b"x")], protocol=5)) == [bytearray(b"x")]
    with pytest.raises(PickleRefused, match="builtins.bytearray"):
        safe_loads(pickle.dumps([bytearray(b"x")], protocol=4))


@pytest.mark.parametrize("protocol", [0, 1, 2])
def test_old_protocols_pickle_bytes_through_a_global_and_are_refused(protocol):
    with pytest.raises(PickleRefused, match="_codecs.encode"):
        safe_loads(pickle.dumps({"images": [b"\xff\xd8"]}, protocol=protocol))


@pytest.mark.parametrize("payload", [_Touch, _Mkdir])
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_a_payload_that_would_run_code_is_refused_and_runs_nothing(tmp_path, payload, protocol):
    target = tmp_path / "pwned"
    data = pickle.dumps({"images": [payload(str(target))]}, protocol=protocol)
    with pytest.raises(PickleRefused, match="global"):
        safe_loads(data)
    assert not target.exists()
    pickle.loads(data)  # the same bytes through the stock unpickler do run: the test payload is real
    assert target.exists()


def test_numpy_arrays_are_refused_because_they_need_globals():
    np = pytest.importorskip("numpy")
    # Flow-GRPO's unifiedreward_score_remote sends np.array_split(prompts): a numpy array of str.
    with pytest.raises(PickleRefused, match="numpy"):
        safe_loads(pickle.dumps({"prompts": np.array(["a", "b"])}))


@pytest.mark.parametrize(
    "data",
    [
        b"",  # empty body
        b"garbage that is not a pickle",
        pickle.dumps({"images": [b"x" * 100]})[:-20],  # truncated
        b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00h\x07.",  # memo get of a key never put
        b"cos\nsystem\n(S'touch /tmp/x'\ntR.",  # protocol 0 GLOBAL + REDUCE
        b"\x80\x02\x82\x01.",  # EXT1: the extension registry, a global by number
        b"\x80\x02X\x03\x00\x00\x00abcQ.",  # BINPERSID: a persistent id
        b"I" + b"9" * 5000 + b"\n.",  # a decimal int above Python's digit limit
    ],
)
def test_malformed_or_code_naming_bodies_raise_pickle_refused(data):
    with pytest.raises(PickleRefused):
        safe_loads(data)


def test_shared_references_cost_no_extra_memory():
    # A "billion laughs" DAG: 30 levels of [x, x]; loading is linear in the body, walking it would not be.
    data = pickle.dumps(_nested(30))
    assert len(data) < 1000
    assert len(safe_loads(data)) == 2
    assert "GET" in {op.name for op, _, _ in pickletools.genops(data)} or "BINGET" in {op.name for op, _, _ in pickletools.genops(data)}


def _nested(depth):
    node = []
    for _ in range(depth):
        node = [node, node]
    return node
