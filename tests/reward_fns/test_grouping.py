"""From verl's flat, ragged list of trajectories to the (N, K) batch interface and back."""

import numpy as np
import pytest

from reward_fns import group_by_id
from reward_fns.grouping import group_blocks


def test_ragged_groups_in_order_of_first_appearance():
    grouped = group_by_id(["b", "a", "b", "a", "c"], [0.1, None, 0.3, 0.5, 0.9], [0.2, 0.4, 0.2, 0.4, 0.7])
    assert grouped.ids == ["b", "a", "c"]
    np.testing.assert_array_equal(grouped.index, [[0, 2], [1, 3], [4, -1]])
    np.testing.assert_array_equal(grouped.valid, [[True, True], [False, True], [True, False]])
    np.testing.assert_allclose(grouped.gt, [0.2, 0.4, 0.7])
    np.testing.assert_allclose(grouped.preds[grouped.valid], [0.1, 0.3, 0.5, 0.9])


def test_to_flat_inverts_the_grouping():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, 40)
    scores = rng.uniform(size=40)
    grouped = group_by_id(ids.tolist(), scores.tolist(), ids / 10.0)
    np.testing.assert_allclose(grouped.to_flat(grouped.preds), scores)


def test_labels_must_agree_within_a_group():
    with pytest.raises(ValueError, match="different labels"):
        group_by_id(["a", "a"], [0.1, 0.2], [0.3, 0.4])


def test_length_mismatch_and_empty_raise():
    with pytest.raises(ValueError):
        group_by_id(["a", "b"], [0.1], [0.3, 0.4])
    with pytest.raises(ValueError, match="empty"):
        group_by_id([], [], [])


def test_group_blocks_stack_groups_of_one_size_in_input_order():
    blocks = group_blocks(["b", "a", "b", "c", "a", "b", ("s", 1)])
    assert [block.tolist() for block in blocks] == [[[3], [6]], [[1, 4]], [[0, 2, 5]]]


def test_group_blocks_cover_every_image_once():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 9, 200).tolist()
    blocks = group_blocks(groups)
    members = np.concatenate([block.ravel() for block in blocks])
    assert sorted(members.tolist()) == list(range(200))
    for block in blocks:
        assert all(len({groups[i] for i in row}) == 1 for row in block)
